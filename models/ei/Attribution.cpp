// See Attribution.h.
#include "models/ei/Attribution.h"

#include "models/Error.h"

#include <algorithm>
#include <cmath>

namespace ei {

torch::Tensor attributionBaseline(const torch::Tensor& input, const std::string& kind, const std::array<float, 3>& mean,
                                  const std::array<float, 3>& std)
{
    const std::int64_t channelDim = input.dim() - 3;
    if (kind == "black") {
        torch::Tensor b = torch::empty_like(input);
        for (int c = 0; c < 3; ++c)
            b.select(channelDim, c).fill_((0.0f - mean[static_cast<std::size_t>(c)]) / std[static_cast<std::size_t>(c)]);
        return b;
    }
    if (kind == "blur") {
        // A normalised image blurred is the blurred image normalised: the kernel sums to 1
        // and reflected edges add no zeros.
        const std::int64_t H = input.size(-2), W = input.size(-1);
        const double sigma = std::max<double>(1.0, static_cast<double>(std::max(H, W)) / 20.0);
        const std::int64_t radius = std::min<std::int64_t>({static_cast<std::int64_t>(std::ceil(3 * sigma)), H - 1, W - 1});
        torch::NoGradGuard noGrad;
        const torch::Tensor flat = input.reshape({-1, 3, H, W}).to(torch::kFloat);
        if (radius < 1)
            return input.clone();
        const torch::Tensor t = torch::arange(-radius, radius + 1, flat.options());
        torch::Tensor k = torch::exp(-t * t / (2 * sigma * sigma));
        k = k / k.sum();
        const torch::Tensor kx = k.view({1, 1, 1, -1}).repeat({3, 1, 1, 1});
        const torch::Tensor ky = k.view({1, 1, -1, 1}).repeat({3, 1, 1, 1});
        torch::Tensor y = torch::reflection_pad2d(flat, {radius, radius, 0, 0});
        y = torch::nn::functional::conv2d(y, kx, torch::nn::functional::Conv2dFuncOptions().groups(3));
        y = torch::reflection_pad2d(y, {0, 0, radius, radius});
        y = torch::nn::functional::conv2d(y, ky, torch::nn::functional::Conv2dFuncOptions().groups(3));
        return y.reshape(input.sizes()).to(input.scalar_type());
    }
    throw UsageError("unknown attribution baseline '" + kind + "' (black or blur)");
}

Attribution integratedGradients(const EiModel& model, const std::vector<torch::Tensor>& inputs,
                                const AttributionOptions& options, const JobControl* control)
{
    const ModelConfig& config = model.config();
    const int M = config.numModalities();
    if (options.targetClass < 0 || options.targetClass >= config.numClasses())
        throw UsageError("attribution: class index " + std::to_string(options.targetClass) + " is not one of the model's " +
                         std::to_string(config.numClasses()) + " classes");
    if (options.steps < 1 || options.batch < 1)
        throw UsageError("attribution: steps and batch must be at least 1");
    if (static_cast<int>(inputs.size()) != M)
        throw BadInputError("", "the model needs " + std::to_string(M) + " inputs, got " + std::to_string(inputs.size()));

    c10::InferenceMode notInference(false);  // gradients are the point
    torch::AutoGradMode gradients(true);
    const torch::Device device = model.device();
    std::vector<torch::Tensor> x(static_cast<std::size_t>(M)), b(static_cast<std::size_t>(M)), delta(static_cast<std::size_t>(M));
    for (int m = 0; m < M; ++m) {
        const auto mi = static_cast<std::size_t>(m);
        if (!inputs[mi].defined())
            continue;
        if (inputs[mi].size(0) != 1)
            throw BadInputError(config.modalities[mi].name, "attribution takes one study (batch 1)");
        x[mi] = inputs[mi].detach().to(device, torch::kFloat);
        b[mi] = attributionBaseline(x[mi], options.baseline, config.mean, config.std);
        delta[mi] = x[mi] - b[mi];
    }
    const auto score = [&](const std::vector<torch::Tensor>& study) {
        torch::NoGradGuard noGrad;
        return model.forward(study).fusedProbs[0][options.targetClass].item<double>();
    };
    Attribution out;
    out.scoreInput = score(x);
    out.scoreBaseline = score(b);

    std::vector<torch::Tensor> gradientSum(static_cast<std::size_t>(M));
    const int N = options.steps;
    for (int k0 = 0; k0 < N; k0 += options.batch) {
        if (control)
            control->checkpoint(static_cast<double>(k0) / N, "integrated gradients: step " + std::to_string(k0 + 1) + " of " +
                                                                 std::to_string(N));
        const int n = std::min(options.batch, N - k0);
        const torch::Tensor alphas =
            (torch::arange(n, torch::TensorOptions().dtype(torch::kFloat).device(device)) + (k0 + 0.5)) / N;
        std::vector<torch::Tensor> path(static_cast<std::size_t>(M)), leaves;
        for (int m = 0; m < M; ++m) {
            const auto mi = static_cast<std::size_t>(m);
            if (!x[mi].defined())
                continue;
            std::vector<std::int64_t> shape(static_cast<std::size_t>(x[mi].dim()), 1);
            shape[0] = n;
            path[mi] = (b[mi] + alphas.view(shape) * delta[mi]).detach().requires_grad_(true);
            leaves.push_back(path[mi]);
        }
        const EiOutputs o = model.forward(path);
        const torch::Tensor f = o.fusedProbs.select(1, options.targetClass).sum();
        const auto grads = torch::autograd::grad({f}, leaves, /*grad_outputs=*/{}, /*retain_graph=*/{}, /*create_graph=*/false,
                                                 /*allow_unused=*/true);
        std::size_t j = 0;
        for (int m = 0; m < M; ++m) {
            const auto mi = static_cast<std::size_t>(m);
            if (!x[mi].defined())
                continue;
            const torch::Tensor& raw = grads[j++];  // undefined: the score does not depend on it
            const torch::Tensor g = raw.defined() ? raw.sum(0, /*keepdim=*/true).detach() : torch::zeros_like(x[mi]);
            gradientSum[mi] = gradientSum[mi].defined() ? gradientSum[mi] + g : g;
        }
    }
    out.maps.resize(static_cast<std::size_t>(M));
    for (int m = 0; m < M; ++m) {
        const auto mi = static_cast<std::size_t>(m);
        if (!x[mi].defined())
            continue;
        const torch::Tensor a = (delta[mi] * gradientSum[mi] / N)[0];  // [3, H, W] or [S, 3, H, W]
        out.maps[mi] = a.sum(a.dim() - 3).to(torch::kCPU);
        out.total += out.maps[mi].sum().item<double>();
    }
    if (control)
        control->checkpoint(1.0, "integrated gradients: done");
    return out;
}

}  // namespace ei
