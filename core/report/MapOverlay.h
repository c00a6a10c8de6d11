// PNG pictures of similarity maps (MODEL.md section 4) for `eiview-cli infer --maps`:
// the map upsampled (bilinear) over the model's input, jet colour map, half opacity.
// The GUI draws its own overlays; this is for files on disk.
#pragma once

#include "core/inference/InferenceResult.h"

#include <string>
#include <vector>

namespace ei {

// background: the model input of that slice as [H][W] grey values in 0..1 (empty for a
// plain map). Writes atomically; ei::BadInputError naming `path` on failure.
void writeMapOverlayPng(const std::string& path, const SimilarityMap& map, int slice,
                        const std::vector<float>& background);

}  // namespace ei
