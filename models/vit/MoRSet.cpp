// MoR layers: router softmax (output 0 = bypass), low-rank pairs, fast concatenated path.
#include "models/vit/MoRSet.h"

#include "models/Error.h"

#include <cmath>

namespace ei {

namespace {

const std::array<const char*, kMoRTargetCount> kNames{"q", "k", "v", "proj", "fc1", "fc2"};

std::pair<std::int64_t, std::int64_t> inOut(MoRTarget t, const BackboneConfig& b)
{
    const std::int64_t d = b.embedDim, h = b.mlpHidden();
    switch (t) {
    case MoRTarget::Fc1: return {d, h};
    case MoRTarget::Fc2: return {h, d};
    default: return {d, d};
    }
}

MoRTarget targetOf(const std::string& name)
{
    for (int i = 0; i < kMoRTargetCount; ++i)
        if (name == kNames[i])
            return static_cast<MoRTarget>(i);
    throw BadInputError("", "unknown MoR target \"" + name + "\"");
}

}  // namespace

const char* morTargetName(MoRTarget t)
{
    return kNames[static_cast<int>(t)];
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> MoRSet::tensorShapes(
    const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix)
{
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
    const std::int64_t routerRows = mor.routerOutputs();
    for (int i = 0; i < backbone.depth; ++i) {
        for (const auto& tname : mor.targets) {
            const auto [din, dout] = inOut(targetOf(tname), backbone);
            const std::string p = prefix + "blocks." + std::to_string(i) + "." + tname + ".";
            out.push_back({p + "router.weight", {routerRows, din}});
            out.push_back({p + "router.bias", {routerRows}});
            for (std::size_t k = 0; k < mor.ranks.size(); ++k) {
                out.push_back({p + "A" + std::to_string(k), {mor.ranks[k], din}});
                out.push_back({p + "B" + std::to_string(k), {dout, mor.ranks[k]}});
            }
        }
    }
    return out;
}

void MoRSet::initialize(const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix,
                        std::map<std::string, torch::Tensor>& params)
{
    torch::NoGradGuard noGrad;
    for (const auto& [name, shape] : tensorShapes(mor, backbone, prefix)) {
        torch::Tensor t;
        const bool isB = name.size() >= 2 && name[name.rfind('.') + 1] == 'B';
        if (isB) {
            t = torch::zeros(shape);
        } else {
            // Kaiming-uniform with a = sqrt(5) (A, router weight) and PyTorch's default
            // Linear bias both reduce to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
            std::int64_t fan = shape.back();
            if (name.size() > 11 && name.compare(name.size() - 11, 11, "router.bias") == 0) {
                const std::string weightName = name.substr(0, name.size() - 4) + "weight";
                fan = params.at(weightName).size(1);
            }
            const double bound = 1.0 / std::sqrt(static_cast<double>(fan));
            t = torch::empty(shape).uniform_(-bound, bound);
        }
        params[name] = t;
    }
}

MoRSet MoRSet::bind(const MorConfig& mor, const BackboneConfig& backbone, const std::string& prefix,
                    const std::map<std::string, torch::Tensor>& params)
{
    MoRSet s;
    s.config_ = mor;
    s.blocks_.resize(static_cast<std::size_t>(backbone.depth));
    auto get = [&](const std::string& n) -> const torch::Tensor& {
        const auto it = params.find(n);
        if (it == params.end())
            throw ModelError("", "missing tensor " + n);
        return it->second;
    };
    for (int i = 0; i < backbone.depth; ++i) {
        for (const auto& tname : mor.targets) {
            const std::string p = prefix + "blocks." + std::to_string(i) + "." + tname + ".";
            MoRLayer& l = s.blocks_[static_cast<std::size_t>(i)][static_cast<int>(targetOf(tname))];
            l.routerWeight = get(p + "router.weight");
            l.routerBias = get(p + "router.bias");
            for (std::size_t k = 0; k < mor.ranks.size(); ++k) {
                l.A.push_back(get(p + "A" + std::to_string(k)));
                l.B.push_back(get(p + "B" + std::to_string(k)));
            }
        }
    }
    s.prepare();
    return s;
}

namespace {

std::int64_t roundUp8(std::int64_t n)
{
    return (n + 7) / 8 * 8;
}

}  // namespace

void MoRSet::prepare()
{
    const std::int64_t rankSum = config_.rankSum();
    const std::int64_t routerRows = config_.routerOutputs();
    const std::int64_t routerPad = roundUp8(routerRows) - routerRows, rankPad = roundUp8(rankSum) - rankSum;
    for (auto& block : blocks_)
        for (MoRLayer& l : block) {
            if (!l.routerWeight.defined())
                continue;
            const auto options = l.routerWeight.options().requires_grad(false);
            const std::int64_t dIn = l.routerWeight.size(1), dOut = l.B[0].size(0);
            std::vector<torch::Tensor> in{l.routerWeight};
            if (routerPad)
                in.push_back(torch::zeros({routerPad, dIn}, options));
            in.insert(in.end(), l.A.begin(), l.A.end());
            if (rankPad)
                in.push_back(torch::zeros({rankPad, dIn}, options));
            l.inW = torch::cat(in, 0);
            l.inB = torch::constant_pad_nd(l.routerBias, {0, routerPad + rankSum + rankPad}, 0.0);
            std::vector<torch::Tensor> out;
            for (std::size_t k = 0; k < l.B.size(); ++k)
                out.push_back(l.B[k].t() * (config_.alphas[k] / config_.ranks[k]));
            if (rankPad)
                out.push_back(torch::zeros({rankPad, dOut}, options));
            l.outBT = out.size() == 1 ? out[0].contiguous() : torch::cat(out, 0);
            l.routerWidth = routerRows + routerPad;
        }
}

MoRSet MoRSet::castTo(torch::ScalarType type) const
{
    MoRSet s;
    s.config_ = config_;
    s.blocks_ = blocks_;
    s.groups_ = groups_;
    for (auto& block : s.blocks_)
        for (MoRLayer& l : block) {
            if (!l.defined())
                continue;
            l.inW = l.inW.to(type);
            l.inB = l.inB.to(type);
            l.outBT = l.outBT.to(type);
        }
    return s;
}

MoRSet MoRSet::stack(const std::vector<const MoRSet*>& sets)
{
    if (sets.empty())
        throw ModelError("", "no MoR sets to stack");
    if (sets.size() == 1)
        return *sets[0];
    MoRSet s;
    s.config_ = sets[0]->config_;
    s.groups_ = static_cast<int>(sets.size());
    s.blocks_.resize(sets[0]->blocks_.size());
    for (std::size_t b = 0; b < s.blocks_.size(); ++b)
        for (int t = 0; t < kMoRTargetCount; ++t) {
            if (!sets[0]->blocks_[b][t].defined())
                continue;
            std::vector<torch::Tensor> inW, inB, outBT;
            for (const MoRSet* set : sets) {
                const MoRLayer& l = set->blocks_.at(b)[t];
                inW.push_back(l.inW);
                inB.push_back(l.inB.unsqueeze(0));
                outBT.push_back(l.outBT);
            }
            MoRLayer& l = s.blocks_[b][t];
            l.inW = torch::stack(inW);      // [G, routerWidth + rankWidth, d_in]
            l.inB = torch::stack(inB);      // [G, 1, routerWidth + rankWidth]
            l.outBT = torch::stack(outBT);  // [G, rankWidth, d_out]
            l.routerWidth = sets[0]->blocks_[b][t].routerWidth;
        }
    return s;
}

const MoRLayer* MoRSet::layer(int block, MoRTarget target) const
{
    if (block < 0 || block >= static_cast<int>(blocks_.size()))
        return nullptr;
    const MoRLayer& l = blocks_[static_cast<std::size_t>(block)][static_cast<int>(target)];
    return l.defined() ? &l : nullptr;
}

torch::Tensor MoRSet::routerWeights(const MoRLayer& layer, const torch::Tensor& h) const
{
    return torch::softmax(torch::linear(h.to(layer.routerWeight.scalar_type()), layer.routerWeight, layer.routerBias), -1);
}

torch::Tensor MoRSet::grouped(const torch::Tensor& t) const
{
    return groups_ > 1 ? t.reshape({groups_, -1, t.size(-1)}) : t;
}

torch::Tensor MoRSet::weightedRanks(const MoRLayer& layer, const torch::Tensor& input) const
{
    const torch::Tensor h = grouped(input);
    const torch::Tensor z = groups_ > 1 ? torch::baddbmm(layer.inB, h, layer.inW.transpose(1, 2))
                                        : torch::linear(h, layer.inW, layer.inB);  // [..., routerWidth + rankWidth]
    const torch::Tensor w = torch::softmax(z.narrow(-1, 0, config_.routerOutputs()), -1);  // [..., K(+1)]
    const std::int64_t offset = config_.bypass ? 1 : 0;
    const std::size_t K = config_.ranks.size();
    const std::int64_t rankWidth = layer.outBT.size(-2);
    // Each rank's router weight repeated over its r_k columns: [..., rankWidth]. The
    // padding columns (zero in z and in outBT) take the last rank's weight.
    std::vector<torch::Tensor> parts;
    std::int64_t covered = 0;
    for (std::size_t k = 0; k < K; ++k) {
        std::vector<std::int64_t> shape = w.sizes().vec();
        shape.back() = k + 1 == K ? rankWidth - covered : config_.ranks[k];
        covered += shape.back();
        parts.push_back(w.narrow(-1, offset + static_cast<std::int64_t>(k), 1).expand(shape));
    }
    const torch::Tensor perColumn = parts.size() == 1 ? parts[0] : torch::cat(parts, -1);
    return z.narrow(-1, layer.routerWidth, rankWidth) * perColumn;
}

torch::Tensor MoRSet::delta(const MoRLayer& layer, const torch::Tensor& input) const
{
    torch::Tensor y = torch::matmul(weightedRanks(layer, input), layer.outBT);
    if (groups_ > 1) {
        std::vector<std::int64_t> shape = input.sizes().vec();
        shape.back() = y.size(-1);
        y = y.reshape(shape);
    }
    return y;
}

void MoRSet::addDelta(const MoRLayer& layer, const torch::Tensor& input, const torch::Tensor& out) const
{
    if (torch::GradMode::is_enabled()) {
        // Recording autograd: an in-place product on a view of `out` would make autograd
        // copy the whole of `out` in the backward pass (CopySlices); add a delta instead.
        torch::Tensor target = out;
        target.add_(delta(layer, input));
        return;
    }
    const torch::Tensor u = weightedRanks(layer, input);
    const std::int64_t dOut = out.size(-1);
    if (groups_ > 1) {
        torch::Tensor target = out.view({groups_, -1, dOut});
        target.baddbmm_(u, layer.outBT);
    } else {
        torch::Tensor target = out.view({-1, dOut});
        target.addmm_(u.reshape({-1, u.size(-1)}), layer.outBT);
    }
}

torch::Tensor MoRSet::deltaPerRank(const MoRLayer& layer, const torch::Tensor& input) const
{
    const torch::Tensor h = input.to(layer.A[0].scalar_type());
    const torch::Tensor w = routerWeights(layer, h);
    const int offset = config_.bypass ? 1 : 0;
    torch::Tensor out;
    for (std::size_t k = 0; k < layer.A.size(); ++k) {
        const double scale = config_.alphas[k] / config_.ranks[k];
        torch::Tensor term = w.select(-1, static_cast<std::int64_t>(k) + offset).unsqueeze(-1) * scale *
                             torch::matmul(torch::matmul(h, layer.A[k].t()), layer.B[k].t());
        out = out.defined() ? out + term : term;
    }
    return out;
}

}  // namespace ei
