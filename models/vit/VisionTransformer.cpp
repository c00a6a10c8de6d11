// ViT forward pass with per-call MoR and extra (INT) tokens.
#include "models/vit/VisionTransformer.h"

#include "models/Error.h"
#include "models/io/TensorSet.h"

#include <cmath>

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
    bindBlocks();
}

void VisionTransformer::bindBlocks()
{
    blocks_.clear();
    for (int i = 0; i < config_.depth; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        auto get = [&](const std::string& n) { return weights_.count(b + n) ? weights_.at(b + n) : torch::Tensor(); };
        blocks_.push_back({get("norm1.weight"), get("norm1.bias"), get("attn.qkv.weight"), get("attn.qkv.bias"),
                           get("attn.proj.weight"), get("attn.proj.bias"), get("ls1"), get("norm2.weight"),
                           get("norm2.bias"), get("mlp.fc1.weight"), get("mlp.fc1.bias"), get("mlp.fc2.weight"),
                           get("mlp.fc2.bias"), get("ls2")});
    }
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
    bindBlocks();
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

torch::Tensor VisionTransformer::runBlock(int index, const torch::Tensor& x, const MoRSet* mor) const
{
    const Block& b = blocks_[static_cast<std::size_t>(index)];
    const std::int64_t B = x.size(0), T = x.size(1), d = config_.embedDim, H = config_.numHeads, hd = d / H;
    const double eps = config_.normEps;
    auto adapted = [&](MoRTarget t) { return mor ? mor->layer(index, t) : nullptr; };

    torch::Tensor h = torch::layer_norm(x, {d}, b.norm1W, b.norm1B, eps);
    torch::Tensor qkv = torch::linear(h, b.qkvW, b.qkvB);
    const MoRLayer* lq = adapted(MoRTarget::Q);
    const MoRLayer* lk = adapted(MoRTarget::K);
    const MoRLayer* lv = adapted(MoRTarget::V);
    if (lq || lk || lv) {
        std::vector<torch::Tensor> parts = qkv.chunk(3, -1);
        if (lq)
            parts[0] = parts[0] + mor->delta(*lq, h);
        if (lk)
            parts[1] = parts[1] + mor->delta(*lk, h);
        if (lv)
            parts[2] = parts[2] + mor->delta(*lv, h);
        qkv = torch::cat(parts, -1);
    }
    qkv = qkv.reshape({B, T, 3, H, hd}).permute({2, 0, 3, 1, 4});
    const torch::Tensor q = qkv[0] * (1.0 / std::sqrt(static_cast<double>(hd)));
    const torch::Tensor attn = torch::softmax(torch::matmul(q, qkv[1].transpose(-2, -1)), -1);
    torch::Tensor a = torch::matmul(attn, qkv[2]).transpose(1, 2).reshape({B, T, d});
    torch::Tensor o = torch::linear(a, b.projW, b.projB);
    if (const MoRLayer* l = adapted(MoRTarget::Proj))
        o = o + mor->delta(*l, a);
    torch::Tensor y = x + (b.ls1.defined() ? o * b.ls1 : o);

    torch::Tensor h2 = torch::layer_norm(y, {d}, b.norm2W, b.norm2B, eps);
    torch::Tensor f = torch::linear(h2, b.fc1W, b.fc1B);
    if (const MoRLayer* l = adapted(MoRTarget::Fc1))
        f = f + mor->delta(*l, h2);
    f = activation(f);
    torch::Tensor g = torch::linear(f, b.fc2W, b.fc2B);
    if (const MoRLayer* l = adapted(MoRTarget::Fc2))
        g = g + mor->delta(*l, f);
    return y + (b.ls2.defined() ? g * b.ls2 : g);
}

BackboneOutput VisionTransformer::forward(const torch::Tensor& images, const BackboneCall& call) const
{
    const int p = config_.patchSize;
    if (images.dim() != 4 || images.size(1) != 3)
        throw BadInputError("", "backbone input must be [B, 3, H, W], got " + shapeText(images.sizes().vec()));
    const std::int64_t H = images.size(2), W = images.size(3);
    if (H < 1 || W < 1)
        throw BadInputError("", "backbone input is empty");
    torch::Tensor x = images.to(weights_.at("cls_token").device(), torch::kFloat);
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

    const auto bias = weights_.count("patch_embed.bias") ? weights_.at("patch_embed.bias") : torch::Tensor();
    x = torch::conv2d(x, weights_.at("patch_embed.weight"), bias, {p, p});  // [B, d, gh, gw]
    x = x.flatten(2).transpose(1, 2);                                        // [B, N, d], raster order
    x = torch::cat({weights_.at("cls_token").expand({B, 1, d}), x}, 1);
    x = x + positionEmbedding(gh, gw);
    if (config_.numRegisterTokens > 0) {
        const torch::Tensor regs = weights_.at("reg_tokens").expand({B, config_.numRegisterTokens, d});
        x = torch::cat({x.narrow(1, 0, 1), regs, x.narrow(1, 1, x.size(1) - 1)}, 1);
    }
    if (config_.preNorm)
        x = torch::layer_norm(x, {d}, weights_.at("norm_pre.weight"), weights_.at("norm_pre.bias"), config_.normEps);

    BackboneOutput out;
    out.gridH = gh;
    out.gridW = gw;
    const bool hasExtra = call.extraTokens.defined() && call.extraTokens.size(1) > 0;
    for (int i = 0; i < config_.depth; ++i) {
        if (hasExtra && i == call.insertLayer)
            x = torch::cat({x, call.extraTokens.to(x.device(), x.scalar_type())}, 1);
        x = runBlock(i, x, call.mor);
        if (call.acquireLayer == i + 1 && call.acquireLayer < config_.depth)
            out.acquiredCls = x.select(1, 0);
    }
    out.tokens = torch::layer_norm(x, {d}, weights_.at("norm.weight"), weights_.at("norm.bias"), config_.normEps);
    if (call.acquireLayer == config_.depth)
        out.acquiredCls = out.tokens.select(1, 0);
    return out;
}

}  // namespace ei
