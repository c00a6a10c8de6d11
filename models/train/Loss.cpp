// Loss terms of MODEL.md section 5; see Loss.h for the rule and why terms are detached.
#include "models/train/Loss.h"

#include "models/Error.h"
#include "models/ei/EiModel.h"

#include <limits>

namespace ei {

torch::Tensor classificationLoss(const torch::Tensor& logits, const torch::Tensor& target, bool multilabel)
{
    if (multilabel)
        return torch::binary_cross_entropy_with_logits(logits, target);
    return torch::nll_loss(torch::log_softmax(logits, 1), target.argmax(1));
}

torch::Tensor trainingGate(const std::vector<torch::Tensor>& primaryCls, const torch::Tensor& gateWeight,
                           const torch::Tensor& gateBias)
{
    std::vector<torch::Tensor> detached;
    for (const auto& c : primaryCls)
        detached.push_back(c.defined() ? c.detach() : c);
    return gateWeights(detached, gateWeight, gateBias);
}

torch::Tensor gateTargets(const std::vector<torch::Tensor>& primaryLogits, const torch::Tensor& target,
                          const std::vector<double>& priorGaps)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> scaled;
    for (std::size_t m = 0; m < primaryLogits.size(); ++m) {
        if (!primaryLogits[m].defined()) {  // a missing modality is never the target
            scaled.push_back(torch::full({target.size(0)}, std::numeric_limits<float>::infinity(), target.options()));
            continue;
        }
        const auto ce = -(target * torch::log_softmax(primaryLogits[m].detach(), 1)).sum(1);
        const double gap = m < priorGaps.size() ? priorGaps[m] : 1.0;
        scaled.push_back(ce * gap);
    }
    // argmin keeps the first minimum on ties (an all-zero multi-label row -> modality 0).
    return torch::stack(scaled, 1).argmin(1);
}

LossTerms fusionLoss(const std::vector<torch::Tensor>& primaryLogits, const std::vector<torch::Tensor>& auxLogits,
                     const torch::Tensor& alpha, const torch::Tensor& target, const LossOptions& options)
{
    if (primaryLogits.empty() || alpha.size(1) != static_cast<std::int64_t>(primaryLogits.size()))
        throw UsageError("fusionLoss: one gate weight per modality is needed");
    const torch::Tensor* first = nullptr;
    for (const auto& l : primaryLogits)
        first = first || !l.defined() ? first : &l;
    if (!first)
        throw UsageError("fusionLoss: every modality is missing");
    LossTerms t;
    t.fusedLogits = torch::zeros_like(*first);
    t.primary = torch::zeros({}, first->options());
    for (std::size_t m = 0; m < primaryLogits.size(); ++m) {
        if (!primaryLogits[m].defined())
            continue;  // a modality dropped from this batch
        t.fusedLogits = t.fusedLogits + alpha.select(1, static_cast<std::int64_t>(m)).unsqueeze(1) * primaryLogits[m].detach();
        t.primary = t.primary + classificationLoss(primaryLogits[m], target, options.multilabel);
    }
    t.fused = classificationLoss(t.fusedLogits, target, options.multilabel);
    t.aux = torch::zeros({}, first->options());
    for (const auto& a : auxLogits)
        if (a.defined())
            t.aux = t.aux + classificationLoss(a, target, options.multilabel);
    const auto fixed = static_cast<std::size_t>(options.fixedGateTarget);
    if (options.fixedGateTarget >= 0 && fixed < primaryLogits.size() && primaryLogits[fixed].defined())
        t.gateTarget = torch::full({alpha.size(0)}, options.fixedGateTarget, torch::TensorOptions().dtype(torch::kLong).device(alpha.device()));
    else
        t.gateTarget = gateTargets(primaryLogits, target, options.priorGaps);
    t.gate = torch::nll_loss(torch::log(alpha + 1e-8), t.gateTarget);
    t.total = options.fusedWeight * t.fused + options.primaryWeight * t.primary + options.lambda1 * t.aux +
              options.lambda2 * t.gate;
    return t;
}

}  // namespace ei
