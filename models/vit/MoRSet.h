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
    // The tensors as stored, float32 (undefined in a stacked set): the per-rank formula.
    torch::Tensor routerWeight;  // [K(+1), d_in]
    torch::Tensor routerBias;    // [K(+1)]
    std::vector<torch::Tensor> A;  // [r_k, d_in]
    std::vector<torch::Tensor> B;  // [d_out, r_k]
    // The fast path's operands, made once per bind (differentiably, so training through
    // them updates the tensors held elsewhere), in the set's compute type. The router
    // rows and every A_k in one matrix, so one product gives the router logits and the
    // rank activations: inW [routerWidth + rankWidth, d_in] = router rows, zero rows up to
    // routerWidth, A_1..A_K, zero rows up to rankWidth; inB the router bias, then zeros.
    // Every B_k with alpha_k / r_k folded in, transposed for the in-place product, zero
    // rows after them: outBT [rankWidth, d_out]. Both widths are multiples of 8, so the
    // skinny products stay aligned for the GPU's matrix units (K + 1 = 4 and sum r = 14
    // by default would not be). A stacked set (MoRSet::stack) holds them as [G, ...],
    // inB [G, 1, ...].
    torch::Tensor inW;
    torch::Tensor inB;
    torch::Tensor outBT;
    std::int64_t routerWidth = 0;
    bool defined() const { return inW.defined(); }
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
    // A view on tensors held elsewhere (shared storage). The stacked / scaled operands of
    // the fast path are made here: bind again after the tensors are replaced or updated.
    static MoRSet bind(const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix,
                       const std::map<std::string, torch::Tensor>& params);

    // The same set with the fast path's operands converted to `type` (differentiably:
    // gradients reach the float32 tensors held elsewhere); the stored tensors of the
    // per-rank formula stay float32. Used for the reduced precisions.
    MoRSet castTo(torch::ScalarType type) const;
    // Several sets (of one config) as one, for a batch made of G equal row groups in
    // order, group g adapted by sets[g]: every layer's fast-path operands stacked [G, ...]
    // (and nothing else: no per-rank formula), so an adapted layer costs one batched
    // product for all groups instead of one per group. Differentiable. delta() of a
    // stacked set needs the batch size to be G * rows.
    static MoRSet stack(const std::vector<const MoRSet*>& sets);
    int groups() const { return groups_; }

    const MoRLayer* layer(int block, MoRTarget target) const;

    // sum_k w_k * alpha_k / r_k * B_k A_k h, as one rank-sum(r) product (the fast path).
    // Creates no tensor from host data, so a CUDA forward never waits on a copy.
    torch::Tensor delta(const MoRLayer& layer, const torch::Tensor& h) const;
    // out += delta(layer, h). Without autograd the last product accumulates into `out`
    // itself (no delta tensor, no separate add). `out` [..., d_out] may be a view whose
    // leading dimensions flatten without a copy (a slice of rows, or q / k / v of a fused
    // qkv product).
    void addDelta(const MoRLayer& layer, const torch::Tensor& h, const torch::Tensor& out) const;
    // The same, rank by rank (the formula as written, in float32; for tests).
    torch::Tensor deltaPerRank(const MoRLayer& layer, const torch::Tensor& h) const;
    // Router probabilities [..., K(+1)], in float32.
    torch::Tensor routerWeights(const MoRLayer& layer, const torch::Tensor& h) const;

private:
    void prepare();  // inW / inB / outBT of every layer
    // A stacked set's view of a batch [G * rows, ..., d] as [G, rows * ..., d].
    torch::Tensor grouped(const torch::Tensor& t) const;
    // (h A^T) * w[rank of each column], [..., rankWidth]: the rank activations weighted
    // by the router (the padding columns zero), from one product for the router and every A_k.
    torch::Tensor weightedRanks(const MoRLayer& layer, const torch::Tensor& h) const;

    MorConfig config_;
    std::vector<std::array<MoRLayer, kMoRTargetCount>> blocks_;
    int groups_ = 1;  // > 1: a stacked set (stack())
};

}  // namespace ei
