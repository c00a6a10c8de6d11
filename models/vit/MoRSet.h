// One MoR set (MODEL.md section 2): for every block and every adapted linear layer a
// router and K low-rank pairs (A_k, B_k). The set does not own the frozen layer: the
// backbone's blocks call delta() with their input and add the result, so one frozen
// backbone serves every MoR set (2M passes, one copy of the weights).
#pragma once

#include "models/ei/ModelConfig.h"

#include <torch/torch.h>

#include <array>
#include <map>
#include <string>
#include <vector>

namespace ei {

enum class MoRTarget : int { Q = 0, K, V, Proj, Fc1, Fc2 };
constexpr int kMoRTargetCount = 6;
const char* morTargetName(MoRTarget t);

struct MoRLayer {
    torch::Tensor routerWeight;  // [K(+1), d_in]
    torch::Tensor routerBias;    // [K(+1)]
    std::vector<torch::Tensor> A;  // [r_k, d_in]
    std::vector<torch::Tensor> B;  // [d_out, r_k]
    bool defined() const { return routerWeight.defined(); }
};

class MoRSet {
public:
    MoRSet() = default;

    // Shapes of every tensor of a set, by full name (prefix e.g. "mor.aux.0.").
    static std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensorShapes(
        const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix);
    // Fresh tensors as the official code initialises them (A Kaiming-uniform a = sqrt 5,
    // B = 0, router a default Linear), added to `params`. Uses the global torch RNG.
    static void initialize(const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix,
                           std::map<std::string, torch::Tensor>& params);
    // A view on tensors held elsewhere (shared storage: training updates are seen).
    static MoRSet bind(const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix,
                       const std::map<std::string, torch::Tensor>& params);

    const MoRLayer* layer(int block, MoRTarget target) const;

    // sum_k w_k * alpha_k / r_k * B_k A_k h, as one rank-sum(r) product (the fast path).
    torch::Tensor delta(const MoRLayer& layer, const torch::Tensor& h) const;
    // The same, rank by rank (the formula as written; for tests).
    torch::Tensor deltaPerRank(const MoRLayer& layer, const torch::Tensor& h) const;
    // Router probabilities [..., K(+1)].
    torch::Tensor routerWeights(const MoRLayer& layer, const torch::Tensor& h) const;

private:
    MorConfig config_;
    std::vector<std::array<MoRLayer, kMoRTargetCount>> blocks_;
    torch::Tensor rankOfColumn_;  // [sum r] -> k
    torch::Tensor factors_;       // [K] alpha_k / r_k
};

}  // namespace ei
