// PNG pictures of similarity maps (MODEL.md section 4) for `eiview-cli infer --maps`:
// the map upsampled (bilinear) over the model's input, jet colour map, half opacity.
// The GUI draws its own overlays; this is for files on disk.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/io/Image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ei {

// One slice of a map as an RGB picture (8 bits, interleaved, rows top to bottom) of the
// model input's size without the padding. background: the model input of that slice as
// [H][W] grey values in 0..1 (empty for a plain map).
struct RgbPicture {
    int width = 0, height = 0;
    std::vector<unsigned char> rgb;
};
// One slice of a map as float values over the model input without the padding (bilinear,
// as the overlays): row-major, `width` x `height`.
std::vector<float> upsampleMap(const SimilarityMap& map, int slice, int& width, int& height);

RgbPicture renderMapOverlay(const SimilarityMap& map, int slice, const std::vector<float>& background);

// The same as a PNG. Writes atomically; ei::BadInputError naming `path` on failure.
void writeMapOverlayPng(const std::string& path, const SimilarityMap& map, int slice,
                        const std::vector<float>& background);

// The model input [S][3][H][W] (normalised) as grey 0..1 pictures per slice ([S][H*W]),
// min-max scaled: the backgrounds of the overlays.
std::vector<std::vector<float>> overlayBackgrounds(const float* input, std::int64_t slices, std::int64_t height,
                                                   std::int64_t width);
// The same for an image, preprocessed as the model's `modality` sees it.
std::vector<std::vector<float>> overlayBackgrounds(const Image& image, const ModelSummary::Modality& modality);

}  // namespace ei
