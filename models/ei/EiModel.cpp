// EI forward pass: auxiliary passes -> INT tokens -> primary passes -> heads -> gate.
#include "models/ei/EiModel.h"

#include "models/Error.h"
#include "models/io/TensorSet.h"

#include <cmath>
#include <limits>

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
    precision_ = resolvePrecision(requested_, device());
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
    precision_ = resolvePrecision(requested_, device);
    std::lock_guard<std::mutex> lock(boundMutex_);
    bound_.clear();
}

void EiModel::setPrecision(Precision requested)
{
    precision_ = resolvePrecision(requested, device());
    requested_ = requested;
}

void EiModel::warmUp() const
{
    torch::InferenceMode guard;
    std::vector<torch::Tensor> inputs;
    for (const ModalityConfig& mc : config_.modalities) {
        const auto opts = torch::TensorOptions().device(device());
        inputs.push_back(mc.isVolume() ? torch::zeros({1, mc.slices, 3, mc.size[0], mc.size[1]}, opts)
                                       : torch::zeros({1, 3, mc.size[0], mc.size[1]}, opts));
    }
    const EiOutputs out = forward(inputs, true);
    (void)out.fused.to(torch::kCPU);  // waits for the device
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

std::size_t EiModel::parameterStamp() const
{
    return tensorSetStamp(params_);
}

std::vector<MoRSet> EiModel::boundSets(const std::string& role, torch::ScalarType type, std::size_t stamp) const
{
    auto bind = [&] {
        std::vector<MoRSet> sets;
        for (int m = 0; m < (role == "uni" ? 1 : config_.numModalities()); ++m) {
            MoRSet s = MoRSet::bind(config_.mor, config_.backbone, "mor." + role + "." + std::to_string(m) + ".", params_);
            sets.push_back(type == torch::kFloat ? std::move(s) : s.castTo(type));
        }
        return sets;
    };
    // With autograd recording (training), the sets are views of this step's tensors.
    if (torch::GradMode::is_enabled())
        return bind();
    std::lock_guard<std::mutex> lock(boundMutex_);
    Bound& b = bound_[{role, static_cast<int>(type)}];
    if (b.sets.empty() || b.stamp != stamp) {
        c10::InferenceMode normal(false);  // normal tensors: usable by a later training pass too
        torch::NoGradGuard noGrad;
        b.sets = bind();
        b.stamp = stamp;
    }
    return b.sets;
}

MoRSet EiModel::stackedSet(torch::ScalarType type, std::size_t stamp, const std::vector<StackPart>& parts) const
{
    std::vector<const MoRSet*> sets;
    std::vector<std::pair<std::string, int>> key;
    for (const StackPart& p : parts) {
        sets.push_back(p.set);
        key.emplace_back(p.role, p.modality);
    }
    if (torch::GradMode::is_enabled())
        return MoRSet::stack(sets);
    std::lock_guard<std::mutex> lock(boundMutex_);
    const auto wanted = std::make_pair(static_cast<int>(type), key);
    auto it = stacks_.find(wanted);
    if (it == stacks_.end() || it->second.stamp != stamp) {
        // Stacks made from other parameter values are stale: free them (their device memory).
        for (auto old = stacks_.begin(); old != stacks_.end();)
            old = old->second.stamp != stamp ? stacks_.erase(old) : std::next(old);
        c10::InferenceMode normal(false);
        torch::NoGradGuard noGrad;
        it = stacks_.insert_or_assign(wanted, Stacked{MoRSet::stack(sets), stamp}).first;
    }
    return it->second.set;
}

torch::Tensor gateWeights(const std::vector<torch::Tensor>& primaryCls, const torch::Tensor& weight,
                          const torch::Tensor& bias)
{
    const torch::Tensor* any = nullptr;
    bool allPresent = true;
    for (const auto& c : primaryCls) {
        if (c.defined())
            any = any ? any : &c;
        allPresent = allPresent && c.defined();
    }
    if (!any)
        throw BadInputError("", "the gate needs at least one modality");
    if (allPresent)
        return torch::softmax(torch::linear(torch::cat(primaryCls, 1), weight, bias), -1);
    std::vector<torch::Tensor> parts;
    std::vector<bool> mask;
    for (const auto& c : primaryCls) {
        parts.push_back(c.defined() ? c : torch::zeros_like(*any));
        mask.push_back(!c.defined());
    }
    torch::Tensor logits = torch::linear(torch::cat(parts, 1), weight, bias);
    for (std::size_t m = 0; m < mask.size(); ++m)
        if (mask[m])
            logits.select(1, static_cast<std::int64_t>(m)).fill_(-std::numeric_limits<float>::infinity());
    return torch::softmax(logits, -1);
}

namespace {

// The backbone outputs of one kind of pass, per modality (views into the batched call).
struct PassTokens {
    std::vector<torch::Tensor> tokens;
    std::vector<torch::Tensor> acquired;
    std::vector<std::array<int, 2>> grid;
    explicit PassTokens(int M) : tokens(M), acquired(M), grid(M) {}
};

}  // namespace

EiOutputs EiModel::forward(const std::vector<torch::Tensor>& inputs, bool computeMaps, const JobControl* control) const
{
    const int M = config_.numModalities();
    if (static_cast<int>(inputs.size()) != M)
        throw BadInputError("", "the model needs " + std::to_string(M) + " inputs, got " + std::to_string(inputs.size()));
    const torch::Device device = backbone_->device();
    // Flatten slices into the batch: [B*S, 3, H, W]; each input crosses to the device once.
    std::vector<torch::Tensor> flat(static_cast<std::size_t>(M));
    std::vector<std::int64_t> slices(static_cast<std::size_t>(M), 1);
    std::vector<bool> present(static_cast<std::size_t>(M));
    std::vector<int> presentList;
    std::int64_t batch = -1;
    for (int m = 0; m < M; ++m) {
        const ModalityConfig& mc = config_.modalities[static_cast<std::size_t>(m)];
        const torch::Tensor& x = inputs[static_cast<std::size_t>(m)];
        if (!x.defined())
            continue;  // a missing modality
        present[static_cast<std::size_t>(m)] = true;
        presentList.push_back(m);
        const std::int64_t wantDim = mc.isVolume() ? 5 : 4;
        if (x.dim() != wantDim || x.size(wantDim - 3) != 3)
            throw BadInputError(mc.name, std::string("input must be ") +
                                             (mc.isVolume() ? "[B, S, 3, H, W]" : "[B, 3, H, W]") + ", got " +
                                             shapeText(x.sizes().vec()));
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
        torch::Tensor f = (mc.isVolume() ? x.reshape({-1, 3, x.size(3), x.size(4)}) : x).to(torch::kFloat);
        if (device.is_cuda() && f.device().is_cpu())
            f = f.contiguous().pin_memory().to(device, /*non_blocking=*/true);
        flat[static_cast<std::size_t>(m)] = f.to(device);
    }
    if (presentList.empty())
        throw BadInputError("", "every modality of the model is missing; at least one input is needed");
    const int P = static_cast<int>(presentList.size());

    const MatmulPrecisionScope matmulPrecision(precision_, device);
    const torch::ScalarType type = computeType(precision_);
    const std::string& fusion = config_.fusion;
    const std::size_t stamp = torch::GradMode::is_enabled() ? 0 : parameterStamp();  // the bound-set caches' key
    auto bindSets = [&](const std::string& role) { return boundSets(role, type, stamp); };

    // Modalities of one input size share each backbone call: per size group one call for
    // the auxiliary passes and one for the primary passes. The passes without INT (maps)
    // need nothing from the auxiliary passes, so they ride along in the auxiliary call.
    std::vector<std::vector<int>> sizeGroups;
    if (fusion == "unimodal") {
        sizeGroups.push_back({0});
    } else {
        std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> groupOf;
        for (int m : presentList) {
            const auto key = std::make_pair(flat[m].size(2), flat[m].size(3));
            const auto [it, fresh] = groupOf.emplace(key, sizeGroups.size());
            if (fresh)
                sizeGroups.emplace_back();
            sizeGroups[it->second].push_back(m);
        }
    }
    // Without a second present modality no INT is exchanged: the passes with and without
    // INT are the same pass.
    const bool exchangesInt = fusion == "ei" && P > 1;
    const int callsTotal = (fusion == "ei" ? 2 : 1) * static_cast<int>(sizeGroups.size());
    int callsDone = 0;
    // One pass of one modality: its MoR sets (a role's, by modality) and where its
    // backbone outputs go.
    struct Pass {
        const std::string* role;
        const std::vector<MoRSet>* sets;
        PassTokens* out;
    };
    // One backbone call for the passes of the members, pass by pass, modality by modality
    // within a pass: the batch is their rows in that order.
    auto run = [&](const std::vector<int>& members, const std::vector<Pass>& passes, const std::string& stage,
                   const std::vector<torch::Tensor>* extra, int acquireLayer) {
        std::string names;
        for (int m : members)
            names += (names.empty() ? "" : ", ") + config_.modalities[static_cast<std::size_t>(m)].name;
        if (control)
            control->checkpoint(static_cast<double>(callsDone) / callsTotal, names + ": " + stage);
        ++callsDone;
        std::vector<torch::Tensor> xs, extras;
        std::vector<StackPart> parts;
        BackboneCall call;
        call.computeType = type;
        call.acquireLayer = acquireLayer;
        bool equalRows = true;
        std::int64_t rows = 0;
        for (const Pass& pass : passes)
            for (int m : members) {
                const torch::Tensor& x = flat[static_cast<std::size_t>(m)];
                const MoRSet& set = (*pass.sets)[static_cast<std::size_t>(m)];
                xs.push_back(x);
                call.morGroups.push_back({&set, x.size(0)});
                parts.push_back({*pass.role, m, &set});
                equalRows = equalRows && x.size(0) == xs[0].size(0);
                rows += x.size(0);
                if (extra)
                    extras.push_back((*extra)[static_cast<std::size_t>(m)]);
            }
        // Groups of equal rows (the usual case: one study, images of one size): one
        // stacked MoR set, one batched product per adapted layer for all of them.
        MoRSet stacked;
        if (parts.size() > 1 && equalRows) {
            stacked = stackedSet(type, stamp, parts);
            call.morGroups = {{&stacked, rows}};
        }
        if (extra) {
            call.extraTokens = extras.size() == 1 ? extras[0] : torch::cat(extras, 0);
            call.insertLayer = config_.insertLayer;
        }
        const BackboneOutput o = backbone_->forward(xs.size() == 1 ? xs[0] : torch::cat(xs, 0), call);
        std::int64_t start = 0;
        for (const Pass& pass : passes)
            for (int m : members) {
                const std::int64_t n = flat[static_cast<std::size_t>(m)].size(0);
                const bool all = xs.size() == 1;
                pass.out->tokens[static_cast<std::size_t>(m)] = all ? o.tokens : o.tokens.narrow(0, start, n);
                if (o.acquiredCls.defined())
                    pass.out->acquired[static_cast<std::size_t>(m)] = all ? o.acquiredCls : o.acquiredCls.narrow(0, start, n);
                pass.out->grid[static_cast<std::size_t>(m)] = {o.gridH, o.gridW};
                start += n;
            }
    };
    const std::string uniRole = "uni", auxRole = "aux", primaryRole = "primary";

    EiOutputs out;
    out.present = present;
    out.grids.resize(static_cast<std::size_t>(M));
    out.maps.resize(static_cast<std::size_t>(M));
    out.logits.resize(static_cast<std::size_t>(M));
    out.probs.resize(static_cast<std::size_t>(M));
    out.primaryCls.resize(static_cast<std::size_t>(M));
    auto mapOf = [&](int m, const torch::Tensor& sim, int gh, int gw) {
        return sim.reshape({batch, slices[static_cast<std::size_t>(m)], gh, gw});
    };

    if (fusion == "unimodal") {
        const std::vector<MoRSet> sets = bindSets(uniRole);
        PassTokens pass(M);
        run({0}, {{&uniRole, &sets, &pass}}, "pass", nullptr, 0);
        const torch::Tensor& tokens = pass.tokens[0];
        const auto [gh, gw] = pass.grid[0];
        const torch::Tensor cls = tokens.select(1, 0);
        // Stage-1 rule: a volume's logits are the max over slice logits (MODEL.md 9.13).
        const torch::Tensor logits = poolSlices(head("uni", 0, cls), batch, slices[0], "max");
        out.logits[0] = logits;
        out.probs[0] = probabilities(logits);
        out.primaryCls[0] = poolSlices(cls, batch, slices[0], config_.slicePoolPrimary);
        out.fused = logits;
        out.fusedProbs = probabilities(logits);
        out.gate = torch::ones({batch, 1}, logits.options());
        out.grids[0] = {gh, gw};
        if (computeMaps)
            out.maps[0].push_back({"cls", mapOf(0, patchSimilarity(tokens, cls, gh, gw), gh, gw)});
        return out;
    }

    // Auxiliary passes (ei only): CLS for INT and auxiliary logits, pooled over slices;
    // with maps, the primary passes without INT in the same call.
    std::vector<torch::Tensor> intSource(static_cast<std::size_t>(M));
    const std::vector<MoRSet> primarySets = bindSets(primaryRole);
    PassTokens primary(M), plain(M);
    const bool withoutInt = computeMaps && exchangesInt;
    if (fusion == "ei") {
        const std::vector<MoRSet> auxSets = bindSets(auxRole);
        PassTokens aux(M);
        std::vector<Pass> passes{{&auxRole, &auxSets, &aux}};
        if (withoutInt)
            passes.push_back({&primaryRole, &primarySets, &plain});
        for (const auto& group : sizeGroups)
            run(group, passes, withoutInt ? "auxiliary pass and primary pass without INT" : "auxiliary pass", nullptr,
                config_.acquireLayer);
        out.auxLogits.resize(static_cast<std::size_t>(M));
        out.auxProbs.resize(static_cast<std::size_t>(M));
        for (int m : presentList) {
            const std::int64_t S = slices[static_cast<std::size_t>(m)];
            intSource[static_cast<std::size_t>(m)] = poolSlices(aux.acquired[static_cast<std::size_t>(m)], batch, S, config_.slicePoolAux);
            const torch::Tensor auxLogits =
                poolSlices(head("aux", m, aux.tokens[static_cast<std::size_t>(m)].select(1, 0)), batch, S, config_.slicePoolAux);
            out.auxLogits[static_cast<std::size_t>(m)] = auxLogits;
            out.auxProbs[static_cast<std::size_t>(m)] = probabilities(auxLogits);
        }
    }

    // INT tokens each modality receives from the others, in modality order.
    std::vector<torch::Tensor> extra(static_cast<std::size_t>(M));
    std::vector<std::vector<int>> references(static_cast<std::size_t>(M));
    if (exchangesInt)
        for (int t : presentList) {
            std::vector<torch::Tensor> ints;
            for (int r : presentList)
                if (r != t) {
                    ints.push_back(adapter(t, r, intSource[static_cast<std::size_t>(r)]));
                    references[static_cast<std::size_t>(t)].push_back(r);
                }
            torch::Tensor e = torch::stack(ints, 1);  // [B, P-1, d] from the P present modalities
            const std::int64_t S = slices[static_cast<std::size_t>(t)];
            extra[static_cast<std::size_t>(t)] = S > 1 ? e.repeat_interleave(S, 0) : e;  // every slice gets the same INT tokens
        }

    // Primary passes.
    for (const auto& group : sizeGroups)
        run(group, {{&primaryRole, &primarySets, &primary}}, "primary pass", exchangesInt ? &extra : nullptr, 0);

    for (int t : presentList) {
        const std::int64_t S = slices[static_cast<std::size_t>(t)];
        const torch::Tensor& tokens = primary.tokens[static_cast<std::size_t>(t)];
        const auto [gh, gw] = primary.grid[static_cast<std::size_t>(t)];
        const torch::Tensor cls = poolSlices(tokens, batch, S, config_.slicePoolPrimary).select(1, 0);
        const torch::Tensor logits = head("primary", t, cls);
        out.primaryCls[static_cast<std::size_t>(t)] = cls;
        out.logits[static_cast<std::size_t>(t)] = logits;
        out.probs[static_cast<std::size_t>(t)] = probabilities(logits);
        out.grids[static_cast<std::size_t>(t)] = {gh, gw};
        if (!computeMaps)
            continue;
        // Maps per slice, each against its own slice-level CLS (MODEL.md 9.6).
        const torch::Tensor clsMap = mapOf(t, patchSimilarity(tokens, tokens.select(1, 0), gh, gw), gh, gw);
        auto& maps = out.maps[static_cast<std::size_t>(t)];
        maps.push_back({"cls", clsMap});
        if (!exchangesInt)
            continue;  // no INT received: nothing to compare with
        const torch::Tensor& n = plain.tokens[static_cast<std::size_t>(t)];
        const torch::Tensor noint = mapOf(t, patchSimilarity(n, n.select(1, 0), gh, gw), gh, gw);
        maps.push_back({"cls_noint", noint});
        const std::int64_t intStart = backbone_->prefixTokens() + std::int64_t(gh) * gw;
        const auto& refs = references[static_cast<std::size_t>(t)];
        for (std::size_t j = 0; j < refs.size(); ++j) {
            const torch::Tensor intToken = tokens.select(1, intStart + static_cast<std::int64_t>(j));
            maps.push_back({"int_" + config_.modalities[static_cast<std::size_t>(refs[j])].name,
                            mapOf(t, patchSimilarity(tokens, intToken, gh, gw), gh, gw)});
        }
        maps.push_back({"delta", clsMap - noint});
    }

    // Gate over the primary CLS tokens; fused logits mix the per-modality logits.
    out.gate = gateWeights(out.primaryCls, param("gate.weight"), param("gate.bias"));
    torch::Tensor fused;
    for (int t : presentList) {
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
