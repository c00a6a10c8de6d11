// The training losses of MODEL.md section 5 (the official ProcessorEI.fit rule):
//   L = crit(fused, y) + sum_t crit(logits_t, y) + lambda1 * sum_i crit(aux_i, y)
//       + lambda2 * L_gate
// with the fused logits built from DETACHED primary logits and the gate fed DETACHED
// primary CLS tokens, so the fused term and L_gate train only the gate. crit is
// cross-entropy (single-label) or BCE-with-logits, mean over batch x classes
// (multi-label). L_gate is the NLL of log(alpha + 1e-8) against a per-sample one-hot:
// the modality whose primary soft-target cross-entropy times prior_gaps[m] is smallest
// (or a fixed modality, the "best_modality" option).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ei {

struct LossOptions {
    bool multilabel = false;
    double lambda1 = 0.3;             // auxiliary heads
    double lambda2 = 0.1;             // gate supervision
    double fusedWeight = 1.0;         // official mm_loss_weight
    double primaryWeight = 1.0;       // official second_single_loss_weight
    std::vector<double> priorGaps;    // per modality; empty = all 1
    int fixedGateTarget = -1;         // >= 0: every sample's gate target ("best_modality")
};

struct LossTerms {
    torch::Tensor total;       // scalar, what backward() is called on
    torch::Tensor fused;       // crit(fused, y)
    torch::Tensor primary;     // sum_t crit(logits_t, y)
    torch::Tensor aux;         // sum_i crit(aux_i, y) (0 when there are none)
    torch::Tensor gate;        // L_gate
    torch::Tensor gateTarget;  // [B] long
    torch::Tensor fusedLogits; // [B, C], from detached logits
};

// target: [B, C] float, one-hot (single-label) or multi-hot.
torch::Tensor classificationLoss(const torch::Tensor& logits, const torch::Tensor& target, bool multilabel);

// alpha = softmax(gate(concat(primary CLS).detach())): the gate as trained. An undefined
// CLS is a modality dropped from the batch (ei::gateWeights: weight 0, the rest renormalised);
// fusionLoss and gateTargets skip its undefined logits, and a fixed gate target that is
// missing falls back to the per-sample rule.
torch::Tensor trainingGate(const std::vector<torch::Tensor>& primaryCls, const torch::Tensor& gateWeight,
                           const torch::Tensor& gateBias);

// Per-sample gate target: argmin_m priorGaps[m] * (-sum_c y_c log softmax(logits_m)_c).
torch::Tensor gateTargets(const std::vector<torch::Tensor>& primaryLogits, const torch::Tensor& target,
                          const std::vector<double>& priorGaps);

// EI (aux non-empty) and late fusion (aux empty) losses.
LossTerms fusionLoss(const std::vector<torch::Tensor>& primaryLogits, const std::vector<torch::Tensor>& auxLogits,
                     const torch::Tensor& alpha, const torch::Tensor& target, const LossOptions& options);

}  // namespace ei
