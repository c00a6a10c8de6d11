// Training-time image augmentation, as the official EI code (OFFICIAL_EI.md section 4):
// rotation by an integer angle in [-180, 179] (bilinear, black corners, same size), with
// p 0.5 an edge crop of up to 10% per side, with p 0.5 a horizontal flip, resize to the
// model size (bilinear, no aspect kept), then contrast, brightness and saturation each
// x U(0.7, 1.3), clipped. Works on [C, H, W] float tensors in [0, 1]; grey images become
// 3 channels. Random draws come from a caller-owned mt19937 (raw outputs only), so a
// seeded run is reproducible and a resumed run can recreate an epoch's draws.
#pragma once

#include "models/train/TrainConfig.h"

#include <torch/torch.h>

#include <array>
#include <random>
#include <vector>

namespace ei {

struct AugmentParams {
    int angle = 0;                       // degrees
    int cropLeft = 0, cropRight = 0, cropTop = 0, cropBottom = 0;
    bool flip = false;
    double contrast = 1, brightness = 1, saturation = 1;
    double sliceJitter[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // in units of a slice step, U(-0.5, 0.5)
};

double uniform01(std::mt19937& rng);

// Draws every parameter (always the same number of draws, whatever is switched off, so
// switching one augmentation off does not change the others).
AugmentParams drawAugmentParams(std::mt19937& rng, const AugmentConfig& config, int height, int width);

// image [C, H, W] in [0, 1] -> [3, outH, outW] in [0, 1].
torch::Tensor augmentImage(const torch::Tensor& image, const AugmentParams& params, int outH, int outW);
// The evaluation path: grey -> RGB and resize only.
torch::Tensor resizeForModel(const torch::Tensor& image, int outH, int outW);
// (x - mean) / std per channel, on [..., 3, H, W].
torch::Tensor normalizeImage(const torch::Tensor& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std);

// The official slice rule: step = (D - 1) / S, index k = round-half-even(step / 2 + k * step
// + jitter_k * step), clamped to [0, D - 1]; jitter empty = none.
std::vector<int> officialSliceIndices(int depth, int slices, const double* jitter = nullptr);

}  // namespace ei
