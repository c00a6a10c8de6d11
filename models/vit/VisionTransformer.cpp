// ViT forward pass with per-call MoR and extra (INT) tokens.
#include "models/vit/VisionTransformer.h"

#include "models/Error.h"
#include "models/io/TensorSet.h"

#include <torch/version.h>

#include <cmath>

// LibTorch 2.x has fused attention (flash / memory-efficient kernels on CUDA, a fused
// kernel on the CPU); Debian's 1.13 has not, and runs the explicit product below.
#if TORCH_VERSION_MAJOR >= 2
#define EIVIEW_HAVE_SDPA 1
#else
#define EIVIEW_HAVE_SDPA 0
#endif

namespace ei {

namespace F = torch::nn::functional;

namespace {

using Shapes = TensorShapes;

}  // namespace

Shapes VisionTransformer::tensorShapes(const BackboneConfig& c)
{
    const std::int64_t d = c.embedDim, p = c.patchSize, h = c.mlpHidden();
    Shapes s;
    s.push_back({"cls_token", {1, 1, d}});
    if (c.numRegisterTokens > 0)
        s.push_back({"reg_tokens", {1, c.numRegisterTokens, d}});
    s.push_back({"pos_embed", {1, 1 + std::int64_t(c.posGrid[0]) * c.posGrid[1], d}});
    s.push_back({"patch_embed.weight", {d, 3, p, p}});
    if (c.patchBias)
        s.push_back({"patch_embed.bias", {d}});
    if (c.preNorm) {
        s.push_back({"norm_pre.weight", {d}});
        s.push_back({"norm_pre.bias", {d}});
    }
    for (int i = 0; i < c.depth; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        s.push_back({b + "norm1.weight", {d}});
        s.push_back({b + "norm1.bias", {d}});
        s.push_back({b + "attn.qkv.weight", {3 * d, d}});
        s.push_back({b + "attn.qkv.bias", {3 * d}});
        s.push_back({b + "attn.proj.weight", {d, d}});
        s.push_back({b + "attn.proj.bias", {d}});
        if (c.layerScale)
            s.push_back({b + "ls1", {d}});
        s.push_back({b + "norm2.weight", {d}});
        s.push_back({b + "norm2.bias", {d}});
        s.push_back({b + "mlp.fc1.weight", {h, d}});
        s.push_back({b + "mlp.fc1.bias", {h}});
        s.push_back({b + "mlp.fc2.weight", {d, h}});
        s.push_back({b + "mlp.fc2.bias", {d}});
        if (c.layerScale)
            s.push_back({b + "ls2", {d}});
    }
    s.push_back({"norm.weight", {d}});
    s.push_back({"norm.bias", {d}});
    return s;
}

std::map<std::string, torch::Tensor> VisionTransformer::randomWeights(const BackboneConfig& c)
{
    torch::NoGradGuard noGrad;
    std::map<std::string, torch::Tensor> w;
    for (const auto& [name, shape] : tensorShapes(c)) {
        const bool isNormWeight = name.find("norm") != std::string::npos && name.size() > 7 &&
                                  name.compare(name.size() - 7, 7, ".weight") == 0;
        const bool isNormBias = name.find("norm") != std::string::npos && name.size() > 5 &&
                                name.compare(name.size() - 5, 5, ".bias") == 0;
        torch::Tensor t;
        if (isNormWeight)
            t = 1.0 + 0.1 * torch::randn(shape);
        else if (isNormBias)
            t = 0.1 * torch::randn(shape);
        else if (name.find(".ls") != std::string::npos)
            t = 0.5 + 0.1 * torch::randn(shape);
        else
            t = 0.02 * torch::randn(shape);
        w[name] = t.to(torch::kFloat);
    }
    return w;
}

VisionTransformer::VisionTransformer(BackboneConfig config, std::map<std::string, torch::Tensor> weights,
                                     const std::string& source)
    : config_(std::move(config))
{
    weights_ = checkedTensorSet(tensorShapes(config_), weights, source, "backbone ");
    float32_ = bindWeights(torch::kFloat);
}

std::shared_ptr<const VisionTransformer::Weights> VisionTransformer::bindWeights(torch::ScalarType type) const
{
    // Normal (not inference) tensors without autograd history, so that a cache made
    // during an inference can serve a training pass later.
    c10::InferenceMode normal(false);
    torch::NoGradGuard noGrad;
    auto get = [&](const std::string& n) {
        const auto it = weights_.find(n);
        return it == weights_.end() ? torch::Tensor() : it->second.to(type);
    };
    auto w = std::make_shared<Weights>();
    for (int i = 0; i < config_.depth; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        auto g = [&](const std::string& n) { return get(b + n); };
        w->blocks.push_back({g("norm1.weight"), g("norm1.bias"), g("attn.qkv.weight"), g("attn.qkv.bias"),
                             g("attn.proj.weight"), g("attn.proj.bias"), g("ls1"), g("norm2.weight"), g("norm2.bias"),
                             g("mlp.fc1.weight"), g("mlp.fc1.bias"), g("mlp.fc2.weight"), g("mlp.fc2.bias"), g("ls2")});
    }
    w->patchW = get("patch_embed.weight").reshape({config_.embedDim, -1}).contiguous();
    w->patchB = get("patch_embed.bias");
    w->cls = get("cls_token");
    w->reg = get("reg_tokens");
    w->normPreW = get("norm_pre.weight");
    w->normPreB = get("norm_pre.bias");
    return w;
}

std::shared_ptr<const VisionTransformer::Weights> VisionTransformer::weightsFor(torch::ScalarType type,
                                                                               std::size_t stamp) const
{
    if (type == torch::kFloat)
        return float32_;  // views of the weights themselves: never stale
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto& slot = converted_[type];
    if (!slot.value || slot.stamp != stamp)
        slot = {bindWeights(type), stamp};
    return slot.value;
}

torch::Tensor VisionTransformer::positionsFor(int gridH, int gridW, torch::ScalarType type, std::size_t stamp) const
{
    std::lock_guard<std::mutex> lock(cacheMutex_);
    auto& slot = positions_[{gridH, gridW, static_cast<int>(type)}];
    if (!slot.value.defined() || slot.stamp != stamp) {
        c10::InferenceMode normal(false);
        torch::NoGradGuard noGrad;
        slot = {positionEmbedding(gridH, gridW).to(type), stamp};
    }
    return slot.value;
}

std::int64_t VisionTransformer::parameterCount() const
{
    std::int64_t n = 0;
    for (const auto& [name, t] : weights_)
        n += t.numel();
    return n;
}

void VisionTransformer::to(const torch::Device& device)
{
    for (auto& [name, t] : weights_)
        t = t.to(device);
    float32_ = bindWeights(torch::kFloat);
    std::lock_guard<std::mutex> lock(cacheMutex_);
    converted_.clear();
    positions_.clear();
}

torch::Device VisionTransformer::device() const
{
    return weights_.at("cls_token").device();
}

torch::Tensor VisionTransformer::activation(const torch::Tensor& x) const
{
    if (config_.act == "quick_gelu")
        return x * torch::sigmoid(1.702 * x);
    return torch::gelu(x);
}

torch::Tensor VisionTransformer::interpolatePositions(const torch::Tensor& pos, int baseH, int baseW, int gridH,
                                                      int gridW, const std::string& mode)
{
    if (gridH == baseH && gridW == baseW)
        return pos;
    const std::int64_t d = pos.size(2);
    const torch::Tensor cls = pos.narrow(1, 0, 1);
    const auto dtype = pos.scalar_type();
    torch::Tensor grid = pos.narrow(1, 1, pos.size(1) - 1).to(torch::kFloat).reshape({1, baseH, baseW, d}).permute({0, 3, 1, 2});
    auto opts = F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false);
    if (mode == "offset") {
        // The official DINOv2 code: scale factors (n + 0.1) / G, the kernel maps with 1 / s.
        opts.scale_factor(std::vector<double>{(gridH + 0.1) / baseH, (gridW + 0.1) / baseW})
            .recompute_scale_factor(false);
    } else {
        opts.size(std::vector<std::int64_t>{gridH, gridW}).antialias(mode == "size_antialias");
    }
    grid = F::interpolate(grid, opts);
    if (grid.size(2) != gridH || grid.size(3) != gridW)
        throw ModelError("", "position interpolation produced a " + std::to_string(grid.size(2)) + "x" +
                                 std::to_string(grid.size(3)) + " grid, expected " + std::to_string(gridH) + "x" +
                                 std::to_string(gridW));
    grid = grid.permute({0, 2, 3, 1}).reshape({1, std::int64_t(gridH) * gridW, d}).to(dtype);
    return torch::cat({cls, grid}, 1);
}

torch::Tensor VisionTransformer::positionEmbedding(int gridH, int gridW) const
{
    return interpolatePositions(weights_.at("pos_embed"), config_.posGrid[0], config_.posGrid[1], gridH, gridW,
                                config_.resolvedPosInterp());
}

namespace {

// out[rows of group g] += delta of group g's MoR set for `target`, group by group,
// accumulated into (views of) the fresh product itself: no delta tensor, no copy.
void addMoR(const std::vector<MoRRows>& groups, int block, MoRTarget target, const torch::Tensor& in,
            const torch::Tensor& out)
{
    std::int64_t start = 0;
    for (const MoRRows& g : groups) {
        if (const MoRLayer* l = g.set ? g.set->layer(block, target) : nullptr) {
            const bool all = start == 0 && g.rows == in.size(0);
            const torch::Tensor x = all ? in : in.narrow(0, start, g.rows);
            g.set->addDelta(*l, x, all ? out : out.narrow(0, start, g.rows));
        }
        start += g.rows;
    }
}

bool adapts(const std::vector<MoRRows>& groups, int block, MoRTarget target)
{
    for (const MoRRows& g : groups)
        if (g.set && g.set->layer(block, target))
            return true;
    return false;
}

}  // namespace

torch::Tensor VisionTransformer::attention(const torch::Tensor& qkv) const
{
    // qkv [B, T, 3 * d] -> [3, B, heads, T, head dim]
    const std::int64_t B = qkv.size(0), T = qkv.size(1), d = config_.embedDim, H = config_.numHeads, hd = d / H;
    const torch::Tensor parts = qkv.view({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});
#if EIVIEW_HAVE_SDPA
    const torch::Tensor a = at::scaled_dot_product_attention(parts[0], parts[1], parts[2]);
#else
    // The scale is folded into q; the softmax runs in place on the fresh score matrix.
    const torch::Tensor q = parts[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
    torch::Tensor scores = torch::matmul(q, parts[1].transpose(-2, -1));
    if (c10::InferenceMode::is_enabled() || !torch::GradMode::is_enabled())
        at::_softmax_out(scores, scores, -1, false);
    else
        scores = torch::softmax(scores, -1);
    const torch::Tensor a = torch::matmul(scores, parts[2]);
#endif
    return a.transpose(1, 2).reshape({B, T, d});
}

torch::Tensor VisionTransformer::runBlock(const Block& b, int index, const torch::Tensor& x,
                                          const std::vector<MoRRows>& mor) const
{
    const std::int64_t d = config_.embedDim;
    const double eps = config_.normEps;

    const torch::Tensor h = torch::layer_norm(x, {d}, b.norm1W, b.norm1B, eps);
    torch::Tensor qkv = torch::linear(h, b.qkvW, b.qkvB);
    for (MoRTarget t : {MoRTarget::Q, MoRTarget::K, MoRTarget::V})
        if (adapts(mor, index, t))
            addMoR(mor, index, t, h, qkv.narrow(-1, static_cast<std::int64_t>(t) * d, d));
    const torch::Tensor a = attention(qkv);
    torch::Tensor o = torch::linear(a, b.projW, b.projB);
    addMoR(mor, index, MoRTarget::Proj, a, o);
    const torch::Tensor y = b.ls1.defined() ? torch::addcmul(x, o, b.ls1) : x + o;

    const torch::Tensor h2 = torch::layer_norm(y, {d}, b.norm2W, b.norm2B, eps);
    torch::Tensor f = torch::linear(h2, b.fc1W, b.fc1B);
    addMoR(mor, index, MoRTarget::Fc1, h2, f);
    f = activation(f);
    torch::Tensor g = torch::linear(f, b.fc2W, b.fc2B);
    addMoR(mor, index, MoRTarget::Fc2, f, g);
    return b.ls2.defined() ? torch::addcmul(y, g, b.ls2) : y + g;
}

BackboneOutput VisionTransformer::forward(const torch::Tensor& images, const BackboneCall& call) const
{
    const int p = config_.patchSize;
    if (images.dim() != 4 || images.size(1) != 3)
        throw BadInputError("", "backbone input must be [B, 3, H, W], got " + shapeText(images.sizes().vec()));
    const std::int64_t H = images.size(2), W = images.size(3);
    if (H < 1 || W < 1)
        throw BadInputError("", "backbone input is empty");
    const torch::ScalarType type = call.computeType;
    const std::size_t stamp = tensorSetStamp(weights_);
    const std::shared_ptr<const Weights> held = weightsFor(type, stamp);
    const Weights& w = *held;
    // A backbone that trains (train_backbone) reads its own tensors each pass, so that
    // gradients reach them; the converted copies and the position cache are for frozen ones.
    const bool trains = torch::GradMode::is_enabled() && weights_.at("patch_embed.weight").requires_grad();
    if (trains && type != torch::kFloat)
        throw ModelError("", "a backbone that trains runs in fp32 or tf32, not a reduced precision");
    torch::Tensor x = images.to(w.patchW.device(), type);
    const std::int64_t padH = (p - H % p) % p, padW = (p - W % p) % p;
    if (padH || padW) {
        if (!config_.padToPatch)
            throw BadInputError("", "input size " + std::to_string(H) + "x" + std::to_string(W) +
                                        " is not a multiple of the patch size " + std::to_string(p) +
                                        " and backbone.pad_to_patch is false");
        x = torch::constant_pad_nd(x, {0, padW, 0, padH}, 0.0);
    }
    const int gh = static_cast<int>((H + padH) / p), gw = static_cast<int>((W + padW) / p);
    const std::int64_t B = x.size(0), d = config_.embedDim;

    std::vector<MoRRows> groups = call.morGroups;
    if (groups.empty() && call.mor)
        groups.push_back({call.mor, B});
    std::int64_t groupRows = 0;
    for (const MoRRows& g : groups)
        groupRows += g.rows;
    if (!groups.empty() && groupRows != B)
        throw BadInputError("", "MoR row groups cover " + std::to_string(groupRows) + " rows of a batch of " +
                                    std::to_string(B));

    // The patch convolution (stride = kernel) as one matrix product over the patches in
    // raster order, each patch flattened as the kernel is: (channel, row, column).
    x = x.view({B, 3, gh, p, gw, p}).permute({0, 2, 4, 1, 3, 5}).reshape({B, std::int64_t(gh) * gw, 3 * p * p});
    x = torch::linear(x, trains ? weights_.at("patch_embed.weight").reshape({d, -1}) : w.patchW, w.patchB);  // [B, N, d]
    x = torch::cat({w.cls.expand({B, 1, d}), x}, 1);
    x = x + (trains ? positionEmbedding(gh, gw) : positionsFor(gh, gw, type, stamp));
    if (config_.numRegisterTokens > 0) {
        const torch::Tensor regs = w.reg.expand({B, config_.numRegisterTokens, d});
        x = torch::cat({x.narrow(1, 0, 1), regs, x.narrow(1, 1, x.size(1) - 1)}, 1);
    }
    if (config_.preNorm)
        x = torch::layer_norm(x, {d}, w.normPreW, w.normPreB, config_.normEps);

    BackboneOutput out;
    out.gridH = gh;
    out.gridW = gw;
    const bool hasExtra = call.extraTokens.defined() && call.extraTokens.size(1) > 0;
    for (int i = 0; i < config_.depth; ++i) {
        if (hasExtra && i == call.insertLayer)
            x = torch::cat({x, call.extraTokens.to(x.device(), type)}, 1);
        x = runBlock(w.blocks[static_cast<std::size_t>(i)], i, x, groups);
        if (call.acquireLayer == i + 1 && call.acquireLayer < config_.depth)
            out.acquiredCls = x.select(1, 0).to(torch::kFloat);
    }
    out.tokens = torch::layer_norm(x.to(torch::kFloat), {d}, weights_.at("norm.weight"), weights_.at("norm.bias"),
                                   config_.normEps);
    if (call.acquireLayer == config_.depth)
        out.acquiredCls = out.tokens.select(1, 0);
    return out;
}

}  // namespace ei
