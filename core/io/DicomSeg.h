// DICOM Segmentation objects (SOP class 1.2.840.10008.5.1.4.1.1.66.4) through DCMTK's
// dcmseg: the segments as a label image on the grid of the image they segment.
#pragma once

#include "core/io/Image.h"

#include <string>

namespace ei {

// True when the file is a DICOM SEG.
bool isDicomSegFile(const std::string& path);

// The segments of a SEG as labels (segment number; where binary segments overlap, the
// higher number wins) on `target`'s grid: each frame goes to the target slice at its
// Image Position (Patient) (2-D targets: a frame per segment). tags.other["label N"]
// holds segment N's label. BadInputError naming the file when a frame does not sit on
// the target's grid (other rows / columns, orientation, or a position between slices).
Image loadDicomSegOnto(const std::string& path, const Image& target);

}  // namespace ei
