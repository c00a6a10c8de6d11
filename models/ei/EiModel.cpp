// EI forward pass: auxiliary passes -> INT tokens -> primary passes -> heads -> gate.
#include "models/ei/EiModel.h"

#include "models/Error.h"
#include "models/io/TensorSet.h"

#include <cmath>

namespace ei {

namespace {

using Shapes = TensorShapes;

bool endsWith(const std::string& s, const std::string& tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// [B*S, ...] -> pooled [B, ...] over S.
torch::Tensor poolSlices(const torch::Tensor& x, std::int64_t batch, std::int64_t slices, const std::string& how)
{
    if (slices == 1)
        return x;
    std::vector<std::int64_t> shape{batch, slices};
    for (std::int64_t i = 1; i < x.dim(); ++i)
        shape.push_back(x.size(i));
    const torch::Tensor y = x.reshape(shape);
    return how == "max" ? std::get<0>(y.max(1)) : y.mean(1);
}

std::vector<std::string> morRoles(const ModelConfig& c)
{
    if (c.fusion == "ei")
        return {"aux", "primary"};
    if (c.fusion == "late")
        return {"primary"};
    return {"uni"};
}

std::vector<std::string> headRoles(const ModelConfig& c)
{
    if (c.fusion == "ei")
        return {"primary", "aux"};
    if (c.fusion == "late")
        return {"primary"};
    return {"uni"};
}

std::vector<std::string> adapterPrefixes(const ModelConfig& c)
{
    std::vector<std::string> out;
    if (c.fusion != "ei")
        return out;
    if (!c.adapterPerPair)
        return {"adapter."};
    for (int t = 0; t < c.numModalities(); ++t)
        for (int r = 0; r < c.numModalities(); ++r)
            if (r != t)
                out.push_back("adapter." + std::to_string(t) + "." + std::to_string(r) + ".");
    return out;
}

}  // namespace

Shapes EiModel::tensorShapes(const ModelConfig& c)
{
    Shapes s;
    const std::int64_t d = c.backbone.embedDim, C = c.numClasses(), M = c.numModalities(), h = c.adapterHidden;
    for (const auto& role : morRoles(c))
        for (int m = 0; m < M; ++m) {
            auto part = MoRSet::tensorShapes(c.mor, c.backbone, "mor." + role + "." + std::to_string(m) + ".");
            s.insert(s.end(), part.begin(), part.end());
        }
    for (const auto& p : adapterPrefixes(c)) {
        if (c.adapterNorm) {
            s.push_back({p + "norm.weight", {d}});
            s.push_back({p + "norm.bias", {d}});
        }
        s.push_back({p + "fc1.weight", {h, d}});
        s.push_back({p + "fc1.bias", {h}});
        s.push_back({p + "fc2.weight", {d, h}});
        s.push_back({p + "fc2.bias", {d}});
    }
    for (const auto& role : headRoles(c))
        for (int m = 0; m < M; ++m) {
            s.push_back({"head." + role + "." + std::to_string(m) + ".weight", {C, d}});
            s.push_back({"head." + role + "." + std::to_string(m) + ".bias", {C}});
        }
    if (c.fusion != "unimodal") {
        s.push_back({"gate.weight", {M, M * d}});
        s.push_back({"gate.bias", {M}});
    }
    return s;
}

std::map<std::string, torch::Tensor> EiModel::initialParameters(const ModelConfig& c, bool randomAdapters)
{
    torch::NoGradGuard noGrad;
    std::map<std::string, torch::Tensor> params;
    for (const auto& role : morRoles(c))
        for (int m = 0; m < c.numModalities(); ++m)
            MoRSet::initialize(c.mor, c.backbone, "mor." + role + "." + std::to_string(m) + ".", params);
    for (const auto& [name, shape] : tensorShapes(c)) {
        if (params.count(name))
            continue;
        torch::Tensor t;
        if (name.find(".norm.") != std::string::npos) {
            t = endsWith(name, ".weight") ? torch::ones(shape) : torch::zeros(shape);
            if (randomAdapters)
                t = t + 0.1 * torch::randn(shape);
        } else {
            // A default PyTorch Linear: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
            std::int64_t fan = shape.back();
            if (endsWith(name, ".bias")) {
                const std::string w = name.substr(0, name.size() - 4) + "weight";
                for (const auto& [n2, s2] : tensorShapes(c))
                    if (n2 == w)
                        fan = s2[1];
            }
            const double bound = 1.0 / std::sqrt(static_cast<double>(fan));
            t = torch::empty(shape).uniform_(-bound, bound);
        }
        params[name] = t;
    }
    if (randomAdapters)
        for (auto& [name, t] : params)
            if (name.rfind("mor.", 0) == 0 && name[name.rfind('.') + 1] == 'B')
                t = 0.05 * torch::randn(t.sizes());
    return params;
}

EiModel::EiModel(ModelConfig config, std::shared_ptr<VisionTransformer> backbone,
                 std::map<std::string, torch::Tensor> params, const std::string& source)
    : config_(std::move(config)), backbone_(std::move(backbone))
{
    params_ = checkedTensorSet(tensorShapes(config_), params, source);
    const BackboneConfig& b = backbone_->config();
    const BackboneConfig& c = config_.backbone;
    if (b.embedDim != c.embedDim || b.depth != c.depth || b.patchSize != c.patchSize || b.family != c.family)
        throw ModelError(source, "the backbone does not match the model config (family, patch size, width or depth)");
}

const torch::Tensor& EiModel::param(const std::string& name) const
{
    const auto it = params_.find(name);
    if (it == params_.end())
        throw ModelError("", "missing tensor " + name);
    return it->second;
}

std::int64_t EiModel::trainableParameterCount() const
{
    std::int64_t n = 0;
    for (const auto& [name, t] : params_)
        n += t.numel();
    return n;
}

std::int64_t EiModel::totalParameterCount() const
{
    return trainableParameterCount() + backbone_->parameterCount();
}

void EiModel::to(const torch::Device& device)
{
    backbone_->to(device);
    for (auto& [name, t] : params_)
        t = t.to(device);
}

torch::Tensor EiModel::adapter(int target, int reference, const torch::Tensor& x) const
{
    const std::string p = config_.adapterPerPair
                              ? "adapter." + std::to_string(target) + "." + std::to_string(reference) + "."
                              : std::string("adapter.");
    torch::Tensor h = x;
    if (config_.adapterNorm)
        h = torch::layer_norm(h, {config_.backbone.embedDim}, param(p + "norm.weight"), param(p + "norm.bias"), 1e-6);
    h = torch::gelu(torch::linear(h, param(p + "fc1.weight"), param(p + "fc1.bias")));
    return torch::linear(h, param(p + "fc2.weight"), param(p + "fc2.bias"));
}

torch::Tensor EiModel::head(const std::string& role, int m, const torch::Tensor& x) const
{
    const std::string p = "head." + role + "." + std::to_string(m) + ".";
    return torch::linear(x, param(p + "weight"), param(p + "bias"));
}

torch::Tensor EiModel::probabilities(const torch::Tensor& logits) const
{
    return config_.multilabel ? torch::sigmoid(logits) : torch::softmax(logits, -1);
}

torch::Tensor EiModel::patchSimilarity(const torch::Tensor& tokens, const torch::Tensor& reference, int gridH,
                                       int gridW) const
{
    const std::int64_t n = std::int64_t(gridH) * gridW;
    const torch::Tensor patches = tokens.narrow(1, backbone_->prefixTokens(), n);
    return torch::cosine_similarity(patches, reference.unsqueeze(1), -1, 1e-8);
}

EiOutputs EiModel::forward(const std::vector<torch::Tensor>& inputs, bool computeMaps, const JobControl* control) const
{
    const int M = config_.numModalities();
    if (static_cast<int>(inputs.size()) != M)
        throw BadInputError("", "the model needs " + std::to_string(M) + " inputs, got " + std::to_string(inputs.size()));
    const torch::Device device = backbone_->device();
    // Flatten slices into the batch: [B*S, 3, H, W].
    std::vector<torch::Tensor> flat(static_cast<std::size_t>(M));
    std::vector<std::int64_t> slices(static_cast<std::size_t>(M));
    std::int64_t batch = -1;
    for (int m = 0; m < M; ++m) {
        const ModalityConfig& mc = config_.modalities[static_cast<std::size_t>(m)];
        const torch::Tensor& x = inputs[static_cast<std::size_t>(m)];
        const std::int64_t wantDim = mc.isVolume() ? 5 : 4;
        if (!x.defined() || x.dim() != wantDim || x.size(wantDim - 3) != 3)
            throw BadInputError(mc.name, std::string("input must be ") +
                                             (mc.isVolume() ? "[B, S, 3, H, W]" : "[B, 3, H, W]") + ", got " +
                                             (x.defined() ? shapeText(x.sizes().vec()) : "nothing"));
        if (mc.isVolume() && x.size(1) != mc.slices)
            throw BadInputError(mc.name, "volume input holds " + std::to_string(x.size(1)) + " slices, the model needs " +
                                             std::to_string(mc.slices));
        const int p = config_.backbone.patchSize;
        if (!config_.backbone.padToPatch && (x.size(wantDim - 2) % p || x.size(wantDim - 1) % p))
            throw BadInputError(mc.name, "input size " + std::to_string(x.size(wantDim - 2)) + "x" +
                                             std::to_string(x.size(wantDim - 1)) + " is not a multiple of the patch size " +
                                             std::to_string(p) + " and backbone.pad_to_patch is false");
        if (batch >= 0 && x.size(0) != batch)
            throw BadInputError(mc.name, "batch size differs between modalities");
        batch = x.size(0);
        slices[static_cast<std::size_t>(m)] = mc.isVolume() ? mc.slices : 1;
        flat[static_cast<std::size_t>(m)] =
            (mc.isVolume() ? x.reshape({-1, 3, x.size(3), x.size(4)}) : x).to(device, torch::kFloat);
    }

    EiOutputs out;
    out.grids.resize(static_cast<std::size_t>(M));
    out.maps.resize(static_cast<std::size_t>(M));
    const std::string& fusion = config_.fusion;
    const int passesTotal = fusion == "ei" ? (computeMaps ? 3 * M : 2 * M) : M;
    int passesDone = 0;
    auto step = [&](const std::string& stage) {
        if (control)
            control->checkpoint(static_cast<double>(passesDone) / passesTotal, stage);
        ++passesDone;
    };
    auto mapOf = [&](int m, const torch::Tensor& sim, int gh, int gw) {
        return sim.reshape({batch, slices[static_cast<std::size_t>(m)], gh, gw});
    };

    if (fusion == "unimodal") {
        step(config_.modalities[0].name + ": pass");
        const MoRSet mor = MoRSet::bind(config_.mor, config_.backbone, "mor.uni.0.", params_);
        BackboneCall call;
        call.mor = &mor;
        const BackboneOutput o = backbone_->forward(flat[0], call);
        const torch::Tensor cls = o.tokens.select(1, 0);
        // Stage-1 rule: a volume's logits are the max over slice logits (MODEL.md 9.13).
        const torch::Tensor logits = poolSlices(head("uni", 0, cls), batch, slices[0], "max");
        out.logits.push_back(logits);
        out.probs.push_back(probabilities(logits));
        out.primaryCls.push_back(poolSlices(cls, batch, slices[0], config_.slicePoolPrimary));
        out.fused = logits;
        out.fusedProbs = probabilities(logits);
        out.gate = torch::ones({batch, 1}, logits.options());
        out.grids[0] = {o.gridH, o.gridW};
        if (computeMaps)
            out.maps[0].push_back({"cls", mapOf(0, patchSimilarity(o.tokens, cls, o.gridH, o.gridW), o.gridH, o.gridW)});
        return out;
    }

    // Auxiliary passes (ei only): CLS for INT and auxiliary logits, pooled over slices.
    std::vector<torch::Tensor> intSource(static_cast<std::size_t>(M));
    if (fusion == "ei") {
        for (int m = 0; m < M; ++m) {
            step(config_.modalities[static_cast<std::size_t>(m)].name + ": auxiliary pass");
            const MoRSet mor = MoRSet::bind(config_.mor, config_.backbone, "mor.aux." + std::to_string(m) + ".", params_);
            BackboneCall call;
            call.mor = &mor;
            call.acquireLayer = config_.acquireLayer;
            const BackboneOutput o = backbone_->forward(flat[static_cast<std::size_t>(m)], call);
            const std::int64_t S = slices[static_cast<std::size_t>(m)];
            intSource[static_cast<std::size_t>(m)] = poolSlices(o.acquiredCls, batch, S, config_.slicePoolAux);
            const torch::Tensor auxLogits = poolSlices(head("aux", m, o.tokens.select(1, 0)), batch, S, config_.slicePoolAux);
            out.auxLogits.push_back(auxLogits);
            out.auxProbs.push_back(probabilities(auxLogits));
        }
    }

    // Primary passes.
    for (int t = 0; t < M; ++t) {
        const ModalityConfig& mc = config_.modalities[static_cast<std::size_t>(t)];
        const std::int64_t S = slices[static_cast<std::size_t>(t)];
        const MoRSet mor = MoRSet::bind(config_.mor, config_.backbone, "mor.primary." + std::to_string(t) + ".", params_);
        BackboneCall call;
        call.mor = &mor;
        std::vector<int> references;
        if (fusion == "ei") {
            std::vector<torch::Tensor> ints;
            for (int r = 0; r < M; ++r)
                if (r != t) {
                    ints.push_back(adapter(t, r, intSource[static_cast<std::size_t>(r)]));
                    references.push_back(r);
                }
            torch::Tensor extra = torch::stack(ints, 1);  // [B, M-1, d]
            if (S > 1)
                extra = extra.repeat_interleave(S, 0);  // every slice gets the same INT tokens
            call.extraTokens = extra;
            call.insertLayer = config_.insertLayer;
        }
        step(mc.name + ": primary pass");
        const BackboneOutput o = backbone_->forward(flat[static_cast<std::size_t>(t)], call);
        const torch::Tensor pooled = poolSlices(o.tokens, batch, S, config_.slicePoolPrimary);
        const torch::Tensor cls = pooled.select(1, 0);
        const torch::Tensor logits = head("primary", t, cls);
        out.primaryCls.push_back(cls);
        out.logits.push_back(logits);
        out.probs.push_back(probabilities(logits));
        out.grids[static_cast<std::size_t>(t)] = {o.gridH, o.gridW};
        if (!computeMaps)
            continue;
        // Maps per slice, each against its own slice-level CLS (MODEL.md 9.6).
        const int gh = o.gridH, gw = o.gridW;
        const torch::Tensor sliceCls = o.tokens.select(1, 0);
        const torch::Tensor clsMap = mapOf(t, patchSimilarity(o.tokens, sliceCls, gh, gw), gh, gw);
        auto& maps = out.maps[static_cast<std::size_t>(t)];
        maps.push_back({"cls", clsMap});
        if (fusion != "ei")
            continue;
        step(mc.name + ": primary pass without INT");
        BackboneCall plain;
        plain.mor = &mor;
        const BackboneOutput n = backbone_->forward(flat[static_cast<std::size_t>(t)], plain);
        const torch::Tensor noint = mapOf(t, patchSimilarity(n.tokens, n.tokens.select(1, 0), gh, gw), gh, gw);
        maps.push_back({"cls_noint", noint});
        const std::int64_t intStart = backbone_->prefixTokens() + std::int64_t(gh) * gw;
        for (std::size_t j = 0; j < references.size(); ++j) {
            const torch::Tensor intToken = o.tokens.select(1, intStart + static_cast<std::int64_t>(j));
            maps.push_back({"int_" + config_.modalities[static_cast<std::size_t>(references[j])].name,
                            mapOf(t, patchSimilarity(o.tokens, intToken, gh, gw), gh, gw)});
        }
        maps.push_back({"delta", clsMap - noint});
    }

    // Gate over the primary CLS tokens; fused logits mix the per-modality logits.
    out.gate = torch::softmax(torch::linear(torch::cat(out.primaryCls, 1), param("gate.weight"), param("gate.bias")), -1);
    torch::Tensor fused;
    for (int t = 0; t < M; ++t) {
        const torch::Tensor term = out.gate.narrow(1, t, 1) * out.logits[static_cast<std::size_t>(t)];
        fused = fused.defined() ? fused + term : term;
    }
    out.fused = fused;
    out.fusedProbs = probabilities(fused);
    if (control)
        control->checkpoint(1.0, "done");
    return out;
}

}  // namespace ei
