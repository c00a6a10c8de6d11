// Pixel attributions of the fused prediction (issue 16): Integrated Gradients (Sundararajan
// et al., ICML 2017) of the fused probability of one class with respect to every present
// modality's input pixels. The path runs from a baseline study to the study, all
// modalities together: x(a) = b + a (x - b); the attribution of pixel i is
// (x_i - b_i) times the mean of dF/dx_i over the midpoints a_k = (k + 1/2) / N, k < N
// (a midpoint Riemann sum), summed over the colour channels. Completeness: the sum of
// all attributions approaches F(x) - F(b); the gap is reported.
#pragma once

#include "models/JobControl.h"
#include "models/ei/EiModel.h"

#include <torch/torch.h>

#include <array>
#include <string>
#include <vector>

namespace ei {

struct AttributionOptions {
    int targetClass = 0;
    int steps = 32;              // N
    std::string baseline = "black";  // "black": every image 0 before normalisation; "blur"
    int batch = 4;               // path points per forward
};

struct Attribution {
    std::vector<torch::Tensor> maps;  // per modality: [H, W] (images) / [S, H, W] (volumes); undefined when missing
    double scoreInput = 0;            // F(x): the fused probability of the class
    double scoreBaseline = 0;         // F(b)
    double total = 0;                 // the sum of every attribution
    double gap() const { return total - (scoreInput - scoreBaseline); }
};

// The baseline of one normalised input ([1, 3, H, W] or [1, S, 3, H, W]): "black" is
// (0 - mean) / std per channel; "blur" a Gaussian blur (sigma = 1/20 of the larger side,
// reflected edges) of the input itself. Unknown names are ei::UsageError.
torch::Tensor attributionBaseline(const torch::Tensor& input, const std::string& kind, const std::array<float, 3>& mean,
                                  const std::array<float, 3>& std);

// inputs as EiModel::forward takes them, batch 1 (undefined = a missing modality).
// targetClass outside the model's classes, steps < 1 or batch < 1: ei::UsageError.
// control gets progress per forward and may cancel (ei::Cancelled).
Attribution integratedGradients(const EiModel& model, const std::vector<torch::Tensor>& inputs,
                                const AttributionOptions& options, const JobControl* control = nullptr);

}  // namespace ei
