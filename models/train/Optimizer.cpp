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

}  // namespace ei
