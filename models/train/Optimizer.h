// The optimisers of the trainer (MODEL.md section 5), one parameter at a time.
#pragma once

#include "models/train/TrainConfig.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace ei {

// One optimiser step on a parameter p (updated in place, outside autograd) with its
// gradient g. SGD: heavy-ball momentum with L2 weight decay added to the gradient, as
// the official code. AdamW: Adam with decoupled weight decay, `momentum` as beta1.
// `first` / `second` hold the state (undefined before the first step; SGD uses `first`
// only); `step` counts this stage's updates from 1 (Adam's bias correction).
void optimizerStep(const TrainConfig& config, const ScheduleValue& schedule, long long step, torch::Tensor& p,
                   const torch::Tensor& g, torch::Tensor& first, torch::Tensor& second);

// One parameter of a step over many: the parameter, its gradient and its state.
struct OptimizerSlot {
    torch::Tensor* p = nullptr;
    torch::Tensor g;
    torch::Tensor* first = nullptr;
    torch::Tensor* second = nullptr;
};
// The same step for every slot at once, element for element the arithmetic of
// optimizerStep, through ATen's multi-tensor (_foreach) operators: on CUDA a handful of
// kernel launches for all parameters instead of several per parameter. A trainer with
// hundreds of MoR tensors is otherwise bound by launching those kernels.
void optimizerSteps(const TrainConfig& config, const ScheduleValue& schedule, long long step,
                    const std::vector<OptimizerSlot>& slots);
// The trainer's step over named parameters: optimizerSteps on every one that has a
// gradient (none when `apply` is false: an fp16 step that overflowed), its state kept by
// name in `first` / `second`, then every gradient reset to zero in one operator.
void stepAndResetGradients(const TrainConfig& config, const ScheduleValue& schedule, long long step,
                           std::map<std::string, torch::Tensor>& params, bool apply,
                           std::map<std::string, torch::Tensor>& first, std::map<std::string, torch::Tensor>& second);

}  // namespace ei
