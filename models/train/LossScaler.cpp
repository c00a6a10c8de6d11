// Dynamic loss scaling (see LossScaler.h).
#include "models/train/LossScaler.h"

namespace ei {

LossScaler::LossScaler(bool enabled, double initialScale, int growthInterval)
    : enabled_(enabled), scale_(enabled ? initialScale : 1.0), growthInterval_(growthInterval)
{
}

torch::Tensor LossScaler::scaled(const torch::Tensor& loss) const
{
    return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale(const std::map<std::string, torch::Tensor>& params)
{
    if (!enabled_)
        return true;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> checks;  // one device-side flag per tensor, read back once
    for (const auto& [name, p] : params) {
        torch::Tensor g = p.grad();
        if (!g.defined())
            continue;
        g.div_(scale_);
        checks.push_back(g.isfinite().all());
    }
    const bool finite = checks.empty() || torch::stack(checks).all().item<bool>();
    if (!finite) {
        scale_ = std::max(1.0, scale_ / 2);
        goodSteps_ = 0;
        ++skipped_;
        return false;
    }
    if (++goodSteps_ >= growthInterval_) {
        scale_ *= 2;
        goodSteps_ = 0;
    }
    return true;
}

}  // namespace ei
