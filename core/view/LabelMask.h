// Ground truth beside the maps: a label / mask image (NIfTI, NRRD, MetaImage, PNG, ...,
// or a DICOM SEG) brought onto the grid of the image it annotates, and how a heat map
// agrees with it. A mask is an Image of integer labels (0 = background) with the
// target's size and geometry, so the viewer reformats and draws it like the image.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/io/Image.h"
#include "models/JobControl.h"

#include <optional>
#include <string>
#include <vector>

namespace ei {

// Loads `path` as labels on `target`'s grid: a DICOM SEG by its frame positions; a
// volume (or any mask with a geometry, when the target has one) by patient position,
// nearest voxel; a 2-D mask of another size scaled to the target (nearest). Grey values
// are rounded to labels; a colour mask marks every non-black pixel as label 1.
// BadInputError naming the file when it cannot be read, or no label falls on the image.
Image loadLabelMask(const std::string& path, const Image& target, const JobControl* control = nullptr);

// The labels present (sorted, without 0).
std::vector<int> maskLabels(const Image& mask);

// How a heat map agrees with a mask, over the slices the model saw (pooled): of the
// pixels in the map's top `topFraction` (the hottest), the share inside the mask; the
// share of the image the mask covers (what chance would give); whether the hottest
// pixel is inside (the pointing game); the map's mean inside and outside.
struct MapMaskAgreement {
    double topShareInMask = 0;
    double maskShare = 0;
    bool peakInMask = false;
    double meanInside = 0, meanOutside = 0;
    int slices = 0;
};
// nullopt when the mask holds no label on the slices the model saw.
std::optional<MapMaskAgreement> mapVsMask(const ModalityResult& modality, const SimilarityMap& map, const Image& image,
                                          const Image& mask, double topFraction = 0.10);

}  // namespace ei
