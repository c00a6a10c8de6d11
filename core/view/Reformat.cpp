// See Reformat.h.
#include "core/view/Reformat.h"

#include "core/io/VolumeLoader.h"

#include <cmath>

namespace ei {

QString planeName(Plane plane)
{
    switch (plane) {
    case Plane::Stored: return QStringLiteral("stored");
    case Plane::Axial: return QStringLiteral("axial");
    case Plane::Coronal: return QStringLiteral("coronal");
    case Plane::Sagittal: return QStringLiteral("sagittal");
    }
    return {};
}

int Reformat::sourceSlice(int shownSlice) const
{
    if (!sameGrid || !image)
        return -1;
    return flip[2] ? image->slices - 1 - shownSlice : shownSlice;
}

Reformat reformatVolume(std::shared_ptr<const Image> source, Plane plane)
{
    Reformat r;
    r.image = source;
    r.plane = plane;
    if (plane == Plane::Stored || !source || !source->isVolume() || !source->hasGeometry)
        return r;
    auto out = std::make_shared<Image>(*source);
    reorientToPlane(*out, plane == Plane::Sagittal ? 0 : plane == Plane::Coronal ? 1 : 2);
    // Same grid when each output axis is the same source axis, perhaps reversed.
    for (int a = 0; a < 3; ++a) {
        double dot = 0;
        for (int k = 0; k < 3; ++k)
            dot += out->direction[a * 3 + k] * source->direction[a * 3 + k];
        if (std::abs(std::abs(dot) - 1.0) > 1e-6)
            r.sameGrid = false;
        r.flip[a] = dot < 0;
    }
    r.image = std::move(out);
    return r;
}

World worldOf(const Image& im, QPointF p, double slice)
{
    const double idx[3] = {p.x() - 0.5, p.y() - 0.5, slice};
    World w = im.origin;
    for (int a = 0; a < 3; ++a)
        for (int k = 0; k < 3; ++k)
            w[k] += idx[a] * im.spacing[a] * im.direction[a * 3 + k];
    return w;
}

std::array<double, 3> indexOf(const Image& im, const World& w)
{
    // The direction rows are orthonormal: project onto each.
    std::array<double, 3> out{};
    for (int a = 0; a < 3; ++a) {
        double d = 0;
        for (int k = 0; k < 3; ++k)
            d += (w[k] - im.origin[k]) * im.direction[a * 3 + k];
        out[a] = im.spacing[a] > 0 ? d / im.spacing[a] : 0.0;
    }
    out[0] += 0.5;
    out[1] += 0.5;
    return out;
}

}  // namespace ei
