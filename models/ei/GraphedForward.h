// EiModel::forward replayed from a captured CUDA graph (LibTorch 2.x built with CUDA and
// -DEIVIEW_CUDA_GRAPHS=ON, the default where CUDA is found). A study's forward is
// thousands of small kernels whose launch cost exceeds the arithmetic at 224 x 224 and
// still weighs at 448 x 448 (docs/benchmarks.md); a graph launches them at once. One
// graph per input shape, maps on/off, precision and parameter state, captured on first
// use after a warm-up; later calls copy the inputs into the graph's input tensors and
// replay. Elsewhere (CPU, a LibTorch without CUDA, or graphs off) run() is forward().
// Outputs of a replay are the graph's own tensors: valid until the next run() of the
// same shape (copy them to keep them). Not thread-safe: one caller at a time.
#pragma once

#include "models/ei/EiModel.h"

#include <memory>

namespace ei {

class GraphedForward {
public:
    explicit GraphedForward(std::shared_ptr<const EiModel> model);
    ~GraphedForward();
    GraphedForward(const GraphedForward&) = delete;
    GraphedForward& operator=(const GraphedForward&) = delete;

    // Whether this build can capture graphs at all.
    static bool available();
    // Whether run() replays graphs for this model (available and the model on CUDA).
    bool active() const;

    EiOutputs run(const std::vector<torch::Tensor>& inputs, bool computeMaps, const JobControl* control = nullptr);

private:
    struct Private;
    std::unique_ptr<Private> d;
};

}  // namespace ei
