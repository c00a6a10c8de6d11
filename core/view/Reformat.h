// A volume seen in another plane (multiplanar reformat) and the patient-space geometry
// that links viewports: voxel axes permuted and flipped to the plane the radiologist
// asked for (core/io/VolumeLoader: reorientToPlane; nearest axes, no resampling), and
// conversions between image points and LPS world positions. Image points follow the
// viewer's convention: pixel (i, j) spans [i, i+1) x [j, j+1), its centre at +0.5.
#pragma once

#include "core/io/Image.h"

#include <QPointF>
#include <QString>

#include <array>
#include <memory>

namespace ei {

enum class Plane { Stored, Axial, Coronal, Sagittal };
QString planeName(Plane plane);  // "stored", "axial", ...

struct Reformat {
    std::shared_ptr<const Image> image;  // the source itself for Stored or a 2-D image
    Plane plane = Plane::Stored;
    // True when the reformat keeps the source's columns, rows and slices (each perhaps
    // reversed: flip): what is defined on the source grid (the model's maps) can be shown.
    bool sameGrid = true;
    std::array<bool, 3> flip{false, false, false};

    // Source slice of a shown slice (-1 when !sameGrid).
    int sourceSlice(int shownSlice) const;
};

// plane Stored, or an image without geometry or slices, gives the source back.
Reformat reformatVolume(std::shared_ptr<const Image> source, Plane plane);

using World = std::array<double, 3>;
// The LPS position (mm) of an image point on a slice.
World worldOf(const Image& image, QPointF imagePoint, double slice);
// The image point and slice (continuous) of a world position: {x, y, slice}.
std::array<double, 3> indexOf(const Image& image, const World& world);

}  // namespace ei
