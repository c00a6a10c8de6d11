// CUDA graph capture and replay of EiModel::forward (see GraphedForward.h).
#include "models/ei/GraphedForward.h"

#include <torch/version.h>

#if defined(EIVIEW_CUDA_GRAPHS) && TORCH_VERSION_MAJOR >= 2 && __has_include(<ATen/cuda/CUDAGraph.h>) && \
    __has_include(<cuda_runtime_api.h>)
#define EIVIEW_GRAPHS 1
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#else
#define EIVIEW_GRAPHS 0
#endif

#include <cstdlib>
#include <map>
#include <string>
#include <tuple>

namespace ei {

#if EIVIEW_GRAPHS

struct GraphedForward::Private {
    struct Entry {
        std::unique_ptr<at::cuda::CUDAGraph> graph;
        std::vector<torch::Tensor> inputs;  // the graph reads these
        EiOutputs outputs;                  // and writes these
        std::size_t stamp = 0;
    };
    using Key = std::tuple<std::vector<std::vector<std::int64_t>>, bool, int>;
    std::shared_ptr<const EiModel> model;
    std::map<Key, Entry> entries;
};

bool GraphedForward::available()
{
    return true;
}

#else

struct GraphedForward::Private {
    std::shared_ptr<const EiModel> model;
};

bool GraphedForward::available()
{
    return false;
}

#endif

GraphedForward::GraphedForward(std::shared_ptr<const EiModel> model) : d(std::make_unique<Private>())
{
    d->model = std::move(model);
}

GraphedForward::~GraphedForward() = default;

bool GraphedForward::active() const
{
    const char* off = std::getenv("EIVIEW_CUDA_GRAPHS");  // "0": plain forwards (diagnosis)
    return available() && d->model->device().is_cuda() && !(off && std::string(off) == "0");
}

EiOutputs GraphedForward::run(const std::vector<torch::Tensor>& inputs, bool computeMaps, const JobControl* control)
{
    if (!active())
        return d->model->forward(inputs, computeMaps, control);
#if EIVIEW_GRAPHS
    const EiModel& model = *d->model;
    const torch::Device device = model.device();
    Private::Key key;
    std::get<1>(key) = computeMaps;
    std::get<2>(key) = static_cast<int>(model.precision());
    for (const auto& x : inputs) {
        if (!x.defined())
            return model.forward(inputs, computeMaps, control);  // a missing modality: not graphed
        std::get<0>(key).push_back(x.sizes().vec());
    }
    const std::size_t stamp = model.parameterStamp();
    auto it = d->entries.find(key);
    if (it != d->entries.end() && it->second.stamp != stamp) {
        d->entries.erase(it);
        it = d->entries.end();
    }
    if (it == d->entries.end()) {
        // Shapes are checked by a plain forward first, so that bad input is refused with
        // its message and never captured.
        const EiOutputs checked = model.forward(inputs, computeMaps, control);
        Private::Entry e;
        e.stamp = stamp;
        for (const auto& x : inputs)
            e.inputs.push_back(x.to(device, torch::kFloat).clone());
        torch::cuda::synchronize(device.index());  // the copies above, on the current stream
        const c10::cuda::CUDAGuard deviceGuard(device.index());
        auto stream = c10::cuda::getStreamFromPool();
        {
            const c10::cuda::CUDAStreamGuard streamGuard(stream);
            // Warm-up on the capture stream: allocator, cuBLAS workspaces, caches.
            for (int k = 0; k < 2; ++k)
                (void)model.forward(e.inputs, computeMaps);
            stream.synchronize();
            e.graph = std::make_unique<at::cuda::CUDAGraph>();
            e.graph->capture_begin();
            e.outputs = model.forward(e.inputs, computeMaps);
            e.graph->capture_end();
        }
        stream.synchronize();
        d->entries.emplace(key, std::move(e));
        return checked;
    }
    Private::Entry& e = it->second;
    if (control)
        control->checkpoint(0.0, "replaying the captured forward");
    for (std::size_t m = 0; m < inputs.size(); ++m)
        e.inputs[m].copy_(inputs[m], /*non_blocking=*/true);
    e.graph->replay();
    if (control)
        control->checkpoint(1.0, "done");
    return e.outputs;
#else
    return d->model->forward(inputs, computeMaps, control);
#endif
}

}  // namespace ei
