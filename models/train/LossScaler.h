// Dynamic loss scaling for fp16 training (Micikevicius et al., "Mixed Precision
// Training", 2018; PyTorch's GradScaler with its defaults): the loss is multiplied by a
// scale before backward so that small fp16 gradients do not flush to zero; the float32
// gradients are divided by it before the step. A step whose gradients hold inf / NaN is
// skipped and the scale halves; after `growthInterval` good steps it doubles. bf16 and
// fp32 need none of it: with `enabled` false every call is the identity.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace ei {

class LossScaler {
public:
    explicit LossScaler(bool enabled, double initialScale = 65536.0, int growthInterval = 2000);

    bool enabled() const { return enabled_; }
    double scale() const { return scale_; }
    torch::Tensor scaled(const torch::Tensor& loss) const;
    // Divides the gradients by the scale; false (and the scale halved) when any is not
    // finite, in which case the caller skips the step and zeroes the gradients.
    bool unscale(const std::map<std::string, torch::Tensor>& params);
    long long skippedSteps() const { return skipped_; }

private:
    bool enabled_;
    double scale_;
    int growthInterval_;
    int goodSteps_ = 0;
    long long skipped_ = 0;
};

}  // namespace ei
