#include "models/train/Optimizer.h"

#include <cmath>

namespace ei {

void optimizerStep(const TrainConfig& c, const ScheduleValue& s, long long step, torch::Tensor& p, const torch::Tensor& g,
                   torch::Tensor& first, torch::Tensor& second)
{
    torch::NoGradGuard noGrad;
    if (c.optimizer == "adamw") {
        if (!first.defined())
            first = torch::zeros_like(p);
        if (!second.defined())
            second = torch::zeros_like(p);
        const double beta1 = s.momentum, beta2 = c.beta2, t = static_cast<double>(step);
        first.mul_(beta1).add_(g, 1 - beta1);
        second.mul_(beta2).addcmul_(g, g, 1 - beta2);
        const auto denom = (second / (1 - std::pow(beta2, t))).sqrt_().add_(c.adamEps);
        p.mul_(1 - s.lr * c.weightDecay);
        p.addcdiv_(first, denom, -s.lr / (1 - std::pow(beta1, t)));
        return;
    }
    const auto dp = g + c.weightDecay * p;
    if (!first.defined())
        first = dp.clone();
    else
        first.mul_(s.momentum).add_(dp);
    p.sub_(s.lr * first);
}

void optimizerSteps(const TrainConfig& c, const ScheduleValue& s, long long step, const std::vector<OptimizerSlot>& slots)
{
    if (slots.empty())
        return;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> ps, gs;
    for (const OptimizerSlot& slot : slots) {
        ps.push_back(*slot.p);
        gs.push_back(slot.g);
    }
    if (c.optimizer == "adamw") {
        std::vector<torch::Tensor> m, v;
        for (const OptimizerSlot& slot : slots) {
            if (!slot.first->defined())
                *slot.first = torch::zeros_like(*slot.p);
            if (!slot.second->defined())
                *slot.second = torch::zeros_like(*slot.p);
            m.push_back(*slot.first);
            v.push_back(*slot.second);
        }
        const double beta1 = s.momentum, beta2 = c.beta2, t = static_cast<double>(step);
        at::_foreach_mul_(m, beta1);
        at::_foreach_add_(m, gs, 1 - beta1);
        at::_foreach_mul_(v, beta2);
        at::_foreach_addcmul_(v, gs, gs, 1 - beta2);
        std::vector<torch::Tensor> denom = at::_foreach_div(v, 1 - std::pow(beta2, t));
        at::_foreach_sqrt_(denom);
        at::_foreach_add_(denom, c.adamEps);
        at::_foreach_mul_(ps, 1 - s.lr * c.weightDecay);
        at::_foreach_addcdiv_(ps, m, denom, -s.lr / (1 - std::pow(beta1, t)));
        return;
    }
    // dp = g + wd p; the buffer starts as dp, then buf = momentum buf + dp; p -= lr buf.
    const std::vector<torch::Tensor> dp = at::_foreach_add(gs, at::_foreach_mul(ps, c.weightDecay));
    std::vector<torch::Tensor> buffers, added, all;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].first->defined()) {
            buffers.push_back(*slots[i].first);
            added.push_back(dp[i]);
        } else {
            *slots[i].first = dp[i];
        }
        all.push_back(*slots[i].first);
    }
    if (!buffers.empty()) {
        at::_foreach_mul_(buffers, s.momentum);
        at::_foreach_add_(buffers, added);
    }
    at::_foreach_add_(ps, at::_foreach_mul(all, s.lr), -1.0);  // p - lr buf, exactly
}

void stepAndResetGradients(const TrainConfig& c, const ScheduleValue& s, long long step,
                           std::map<std::string, torch::Tensor>& params, bool apply,
                           std::map<std::string, torch::Tensor>& first, std::map<std::string, torch::Tensor>& second)
{
    torch::NoGradGuard noGrad;
    std::vector<OptimizerSlot> slots;
    std::vector<torch::Tensor> grads;
    for (auto& [name, p] : params) {
        torch::Tensor g = p.grad();
        if (!g.defined())
            continue;
        grads.push_back(g);
        if (apply)
            slots.push_back({&p, g, &first[name], &second[name]});
    }
    optimizerSteps(c, s, step, slots);
    if (!grads.empty())
        at::_foreach_zero_(grads);
}

}  // namespace ei
