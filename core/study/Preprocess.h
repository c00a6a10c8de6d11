// From a loaded Image to the model's input tensor, the same for `eiview-cli infer`, the
// GUI and training (MODEL.md section 3, OFFICIAL_EI.md "Preprocessing"). Includes
// LibTorch: ui/ never includes this header.
//
// Steps, in order:
//  1. volumes: pick `slices` slices with chooseSliceIndices (a 2-D image is one slice; a
//     volume input spec given a 2-D image repeats it);
//  2. intensity to 0..255 (displayIntensityRule):
//     - 8-bit data already in 0..255 (photos, 8-bit DICOM / .npy without rescale) is used
//       as stored, as the official code reads PNG / JPEG / MRNet uint8 volumes;
//     - anything else (12 / 16-bit, signed, rescaled, float) is mapped through the image's
//       display window: [c - w/2, c + w/2] -> [0, 255], clamped;
//     - MONOCHROME1 is inverted here (255 - v), so that bright means dense as in
//       MONOCHROME2; stored values stay uninverted everywhere else;
//  3. resize to height x width with cv::resize INTER_LINEAR in float32 (no aspect kept,
//     no crop, no antialias; skipped when the size already matches);
//  4. grey -> 3 equal channels; clip to [0, 255]; / 255; (x - mean) / std per channel.
// Padding to the patch multiple is the model's business.
#pragma once

#include "core/io/Image.h"
#include "models/ei/ModelConfig.h"

#include <torch/torch.h>

#include <array>
#include <vector>

namespace ei {

struct ModelInputSpec {
    int height = 224;
    int width = 224;
    bool volume = false;
    int slices = 1;  // S for volumes (MODEL.md: 4)
    std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
};

// MODEL.md section 3: step = (D - 1) / S, index k = round-half-even(step / 2 + k * step),
// k = 0..S-1 (no training jitter here). depth >= 1, count >= 1; indices may repeat when
// depth < count.
std::vector<int> chooseSliceIndices(int depth, int count);

// True when step 2 uses the stored values as they are (see the header comment).
bool isDisplayReady(const Image& image);

// One slice as 0..255 float, [H][W][C] (C = image.channels), after step 2.
std::vector<float> sliceTo255(const Image& image, int slice);

// Steps 1-4: float32 [S, 3, H, W] (S = 1 for images). Throws ei::BadInputError for an
// empty image or an impossible spec.
torch::Tensor preprocessForModel(const Image& image, const ModelInputSpec& spec);

// What a model expects of its modality `modality` (index in config order): the size, a
// volume's slice count, the normalisation.
ModelInputSpec modelInputSpec(const ModelConfig& config, int modality);

}  // namespace ei
