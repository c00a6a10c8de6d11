// Parsing, defaults and validation of the model config (MODEL.md section 7 and 9.15).
#include "models/ei/ModelConfig.h"

#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace ei {

using nlohmann::json;

namespace {

// Reads keys of one JSON object, refusing unknown ones and wrong types with the full key
// path in the message.
class ObjectReader {
public:
    ObjectReader(const json& j, std::string source, std::string prefix, std::set<std::string> known)
        : j_(j), source_(std::move(source)), prefix_(std::move(prefix))
    {
        if (!j_.is_object())
            fail(prefix_.empty() ? "config" : prefix_.substr(0, prefix_.size() - 1), "must be a JSON object");
        for (const auto& item : j_.items())
            if (!known.count(item.key()))
                fail(prefix_ + item.key(), "unknown key");
    }

    [[noreturn]] void fail(const std::string& key, const std::string& problem) const
    {
        throw BadInputError(source_, "config key '" + key + "': " + problem);
    }
    std::string key(const std::string& k) const { return prefix_ + k; }
    bool has(const std::string& k) const { return j_.contains(k); }
    const json& raw(const std::string& k) const { return j_.at(k); }

    void read(const std::string& k, int& out) const
    {
        if (!has(k))
            return;
        const json& v = j_.at(k);
        if (!v.is_number_integer())
            fail(key(k), "must be an integer");
        out = v.get<int>();
    }
    void read(const std::string& k, double& out) const
    {
        if (!has(k))
            return;
        const json& v = j_.at(k);
        if (!v.is_number())
            fail(key(k), "must be a number");
        out = v.get<double>();
    }
    void read(const std::string& k, bool& out) const
    {
        if (!has(k))
            return;
        const json& v = j_.at(k);
        if (!v.is_boolean())
            fail(key(k), "must be true or false");
        out = v.get<bool>();
    }
    void read(const std::string& k, std::string& out) const
    {
        if (!has(k))
            return;
        const json& v = j_.at(k);
        if (!v.is_string())
            fail(key(k), "must be a string");
        out = v.get<std::string>();
    }
    template <typename T>
    void readArray(const std::string& k, std::vector<T>& out) const
    {
        if (!has(k))
            return;
        const json& v = j_.at(k);
        if (!v.is_array())
            fail(key(k), "must be an array");
        std::vector<T> values;
        for (const auto& e : v) {
            if constexpr (std::is_same_v<T, int>) {
                if (!e.is_number_integer())
                    fail(key(k), "must hold integers");
            } else if constexpr (std::is_floating_point_v<T>) {
                if (!e.is_number())
                    fail(key(k), "must hold numbers");
            } else {
                if (!e.is_string())
                    fail(key(k), "must hold strings");
            }
            values.push_back(e.get<T>());
        }
        out = std::move(values);
    }
    template <typename T, std::size_t N>
    void readFixed(const std::string& k, std::array<T, N>& out) const
    {
        if (!has(k))
            return;
        std::vector<T> v;
        readArray(k, v);
        if (v.size() != N)
            fail(key(k), "must hold " + std::to_string(N) + " values");
        std::copy(v.begin(), v.end(), out.begin());
    }

private:
    const json& j_;
    std::string source_;
    std::string prefix_;
};

const std::set<std::string> kMorTargets{"q", "k", "v", "proj", "fc1", "fc2"};

}  // namespace

int BackboneConfig::mlpHidden() const
{
    return static_cast<int>(embedDim * mlpRatio + 0.5);
}

std::string BackboneConfig::resolvedPosInterp() const
{
    if (posInterp != "auto")
        return posInterp;
    if (family == "clip")
        return "size";
    return numRegisterTokens > 0 ? "size_antialias" : "offset";
}

BackboneConfig BackboneConfig::fromJson(const json& j, const std::string& source, const std::string& prefix)
{
    ObjectReader r(j, source, prefix,
                   {"family", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio", "num_register_tokens",
                    "pos_grid", "norm_eps", "layer_scale", "act", "pre_norm", "patch_bias", "pos_interp",
                    "pad_to_patch"});
    BackboneConfig c;
    r.read("family", c.family);
    // A CLIP backbone changes several defaults at once (MODEL.md section 1 table);
    // explicit keys still win.
    if (c.family == "clip") {
        c.patchSize = 16;
        c.posGrid = {14, 14};
        c.normEps = 1e-5;
        c.layerScale = false;
        c.act = "quick_gelu";
        c.preNorm = true;
        c.patchBias = false;
    }
    r.read("patch_size", c.patchSize);
    r.read("embed_dim", c.embedDim);
    r.read("depth", c.depth);
    r.read("num_heads", c.numHeads);
    r.read("mlp_ratio", c.mlpRatio);
    r.read("num_register_tokens", c.numRegisterTokens);
    r.readFixed("pos_grid", c.posGrid);
    r.read("norm_eps", c.normEps);
    r.read("layer_scale", c.layerScale);
    r.read("act", c.act);
    r.read("pre_norm", c.preNorm);
    r.read("patch_bias", c.patchBias);
    r.read("pos_interp", c.posInterp);
    r.read("pad_to_patch", c.padToPatch);
    c.validate(source, prefix);
    return c;
}

void BackboneConfig::validate(const std::string& source, const std::string& prefix) const
{
    auto fail = [&](const std::string& k, const std::string& problem) {
        throw BadInputError(source, "config key '" + prefix + k + "': " + problem);
    };
    if (family != "dinov2" && family != "clip")
        fail("family", "must be \"dinov2\" or \"clip\", not \"" + family + "\"");
    if (patchSize < 1 || patchSize > 64)
        fail("patch_size", "must be in 1..64");
    if (embedDim < 1 || embedDim > 8192)
        fail("embed_dim", "must be in 1..8192");
    if (depth < 1 || depth > 128)
        fail("depth", "must be in 1..128");
    if (numHeads < 1 || embedDim % numHeads != 0)
        fail("num_heads", "must divide embed_dim (" + std::to_string(embedDim) + ")");
    if (!(mlpRatio > 0) || mlpRatio > 64)
        fail("mlp_ratio", "must be in (0, 64]");
    if (numRegisterTokens < 0 || numRegisterTokens > 64)
        fail("num_register_tokens", "must be in 0..64");
    if (posGrid[0] < 1 || posGrid[1] < 1 || posGrid[0] > 512 || posGrid[1] > 512)
        fail("pos_grid", "must be two values in 1..512");
    if (!(normEps > 0) || normEps > 1)
        fail("norm_eps", "must be in (0, 1]");
    if (act != "gelu" && act != "quick_gelu")
        fail("act", "must be \"gelu\" or \"quick_gelu\"");
    if (posInterp != "auto" && posInterp != "offset" && posInterp != "size" && posInterp != "size_antialias")
        fail("pos_interp", "must be one of auto, offset, size, size_antialias");
}

json BackboneConfig::toJson() const
{
    return json{{"family", family},           {"patch_size", patchSize},
                {"embed_dim", embedDim},       {"depth", depth},
                {"num_heads", numHeads},       {"mlp_ratio", mlpRatio},
                {"num_register_tokens", numRegisterTokens},
                {"pos_grid", {posGrid[0], posGrid[1]}},
                {"norm_eps", normEps},         {"layer_scale", layerScale},
                {"act", act},                  {"pre_norm", preNorm},
                {"patch_bias", patchBias},     {"pos_interp", posInterp},
                {"pad_to_patch", padToPatch}};
}

int MorConfig::rankSum() const
{
    int s = 0;
    for (int r : ranks)
        s += r;
    return s;
}

bool MorConfig::hasTarget(const std::string& t) const
{
    return std::find(targets.begin(), targets.end(), t) != targets.end();
}

int ModelConfig::modalityIndex(const std::string& name) const
{
    for (std::size_t i = 0; i < modalities.size(); ++i)
        if (modalities[i].name == name)
            return static_cast<int>(i);
    return -1;
}

ModelConfig ModelConfig::fromJson(const json& j, const std::string& source)
{
    ObjectReader r(j, source, "",
                   {"backbone", "modalities", "classes", "multilabel", "fusion", "mor", "int", "adapter",
                    "slice_pool", "mean", "std"});
    ModelConfig c;
    c.backbone = BackboneConfig::fromJson(r.has("backbone") ? r.raw("backbone") : json::object(), source);
    // CLIP's own normalisation is the default for CLIP backbones.
    if (c.backbone.family == "clip") {
        c.mean = {0.48145466f, 0.4578275f, 0.40821073f};
        c.std = {0.26862954f, 0.26130258f, 0.27577711f};
    }
    if (!r.has("modalities"))
        r.fail("modalities", "is required");
    const json& mods = r.raw("modalities");
    if (!mods.is_array())
        r.fail("modalities", "must be an array");
    for (std::size_t i = 0; i < mods.size(); ++i) {
        const std::string prefix = "modalities[" + std::to_string(i) + "].";
        ObjectReader mr(mods[i], source, prefix, {"name", "kind", "size", "slices"});
        ModalityConfig m;
        if (!mr.has("name"))
            mr.fail(prefix + "name", "is required");
        mr.read("name", m.name);
        mr.read("kind", m.kind);
        mr.readFixed("size", m.size);
        if (m.kind == "volume")
            m.slices = 4;
        mr.read("slices", m.slices);
        c.modalities.push_back(m);
    }
    if (!r.has("classes"))
        r.fail("classes", "is required");
    r.readArray("classes", c.classes);
    r.read("multilabel", c.multilabel);
    r.read("fusion", c.fusion);
    if (r.has("mor")) {
        ObjectReader mr(r.raw("mor"), source, "mor.", {"ranks", "alphas", "targets", "bypass"});
        mr.readArray("ranks", c.mor.ranks);
        mr.readArray("alphas", c.mor.alphas);
        mr.readArray("targets", c.mor.targets);
        mr.read("bypass", c.mor.bypass);
    }
    if (r.has("int")) {
        ObjectReader ir(r.raw("int"), source, "int.", {"acquire_layer", "insert_layer"});
        ir.read("acquire_layer", c.acquireLayer);
        ir.read("insert_layer", c.insertLayer);
    }
    if (c.acquireLayer == -1)
        c.acquireLayer = c.backbone.depth;
    if (r.has("adapter")) {
        ObjectReader ar(r.raw("adapter"), source, "adapter.", {"per_pair", "hidden", "norm"});
        ar.read("per_pair", c.adapterPerPair);
        ar.read("hidden", c.adapterHidden);
        ar.read("norm", c.adapterNorm);
    }
    if (r.has("slice_pool")) {
        ObjectReader sr(r.raw("slice_pool"), source, "slice_pool.", {"aux", "primary"});
        sr.read("aux", c.slicePoolAux);
        sr.read("primary", c.slicePoolPrimary);
    }
    r.readFixed("mean", c.mean);
    r.readFixed("std", c.std);
    c.validate(source);
    return c;
}

ModelConfig ModelConfig::fromJsonWithBackbone(const json& j, const std::string& source, const BackboneConfig& given)
{
    if (!j.is_object())
        throw BadInputError(source, "config must be a JSON object");
    json merged = j;
    json backbone = given.toJson();
    if (j.contains("backbone")) {
        if (!j.at("backbone").is_object())
            throw BadInputError(source, "config key 'backbone': must be a JSON object");
        // Validates the user's keys (unknown keys, types) on their own first.
        BackboneConfig::fromJson(j.at("backbone"), source);
        for (const auto& item : j.at("backbone").items()) {
            static const std::set<std::string> runtime{"pos_interp", "pad_to_patch", "norm_eps"};
            if (!runtime.count(item.key()) && item.value() != backbone.at(item.key()))
                throw BadInputError(source, "config key 'backbone." + item.key() + "': " + item.value().dump() +
                                                " contradicts the backbone file (" + backbone.at(item.key()).dump() + ")");
            backbone[item.key()] = item.value();
        }
    }
    merged["backbone"] = backbone;
    return fromJson(merged, source);
}

ModelConfig ModelConfig::fromJsonText(const std::string& text, const std::string& source)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw BadInputError(source, std::string("not valid JSON (") + e.what() + ")");
    }
    return fromJson(j, source);
}

ModelConfig ModelConfig::fromFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot open the config file");
    std::stringstream ss;
    ss << in.rdbuf();
    return fromJsonText(ss.str(), path);
}

void ModelConfig::validate(const std::string& source) const
{
    auto fail = [&](const std::string& k, const std::string& problem) {
        throw BadInputError(source, "config key '" + k + "': " + problem);
    };
    backbone.validate(source);
    if (modalities.empty() || modalities.size() > 8)
        fail("modalities", "must hold 1 to 8 modalities");
    std::set<std::string> names;
    for (std::size_t i = 0; i < modalities.size(); ++i) {
        const auto& m = modalities[i];
        const std::string prefix = "modalities[" + std::to_string(i) + "].";
        if (m.name.empty())
            fail(prefix + "name", "must not be empty");
        // Names become file names (<name>_cls.npy) and tensor-name-free JSON keys.
        for (char ch : m.name)
            if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-'))
                fail(prefix + "name", "may hold only letters, digits, '_' and '-'");
        if (!names.insert(m.name).second)
            fail(prefix + "name", "duplicate modality name \"" + m.name + "\"");
        if (m.kind != "image" && m.kind != "volume")
            fail(prefix + "kind", "must be \"image\" or \"volume\"");
        if (m.size[0] < 1 || m.size[1] < 1 || m.size[0] > 8192 || m.size[1] > 8192)
            fail(prefix + "size", "must be [height, width] in 1..8192");
        if (m.kind == "image" && m.slices != 1)
            fail(prefix + "slices", "is only for volumes");
        if (m.kind == "volume" && (m.slices < 1 || m.slices > 1024))
            fail(prefix + "slices", "must be in 1..1024");
        if (!backbone.padToPatch && (m.size[0] % backbone.patchSize || m.size[1] % backbone.patchSize))
            fail(prefix + "size", "is not a multiple of the patch size and backbone.pad_to_patch is false");
    }
    if (classes.empty())
        fail("classes", "must hold at least one class");
    std::set<std::string> classNames;
    for (const auto& cl : classes) {
        if (cl.empty())
            fail("classes", "class names must not be empty");
        if (!classNames.insert(cl).second)
            fail("classes", "duplicate class \"" + cl + "\"");
    }
    if (fusion != "ei" && fusion != "late" && fusion != "unimodal")
        fail("fusion", "must be \"ei\", \"late\" or \"unimodal\"");
    if (fusion == "unimodal" && modalities.size() != 1)
        fail("fusion", "\"unimodal\" needs exactly one modality");
    if (fusion == "ei" && modalities.size() < 2)
        fail("fusion", "\"ei\" needs at least two modalities");
    if (mor.ranks.empty())
        fail("mor.ranks", "must hold at least one rank");
    for (int rank : mor.ranks)
        if (rank < 1 || rank > 1024)
            fail("mor.ranks", "ranks must be in 1..1024");
    if (mor.alphas.size() != mor.ranks.size())
        fail("mor.alphas", "must have as many values as mor.ranks (" + std::to_string(mor.ranks.size()) + ")");
    std::set<std::string> targets;
    for (const auto& t : mor.targets) {
        if (!kMorTargets.count(t))
            fail("mor.targets", "unknown target \"" + t + "\" (q, k, v, proj, fc1, fc2)");
        if (!targets.insert(t).second)
            fail("mor.targets", "duplicate target \"" + t + "\"");
    }
    if (acquireLayer < 1 || acquireLayer > backbone.depth)
        fail("int.acquire_layer", "must be in 1.." + std::to_string(backbone.depth));
    if (insertLayer < 0 || insertLayer >= backbone.depth)
        fail("int.insert_layer", "must be in 0.." + std::to_string(backbone.depth - 1));
    if (adapterHidden < 1 || adapterHidden > 65536)
        fail("adapter.hidden", "must be in 1..65536");
    if (slicePoolAux != "max" && slicePoolAux != "mean")
        fail("slice_pool.aux", "must be \"max\" or \"mean\"");
    if (slicePoolPrimary != "max" && slicePoolPrimary != "mean")
        fail("slice_pool.primary", "must be \"max\" or \"mean\"");
    for (float s : std)
        if (!(s > 0))
            fail("std", "values must be positive");
}

json ModelConfig::toJson() const
{
    json mods = json::array();
    for (const auto& m : modalities) {
        json o{{"name", m.name}, {"kind", m.kind}, {"size", {m.size[0], m.size[1]}}};
        if (m.isVolume())
            o["slices"] = m.slices;
        mods.push_back(o);
    }
    return json{{"backbone", backbone.toJson()},
                {"modalities", mods},
                {"classes", classes},
                {"multilabel", multilabel},
                {"fusion", fusion},
                {"mor", {{"ranks", mor.ranks}, {"alphas", mor.alphas}, {"targets", mor.targets}, {"bypass", mor.bypass}}},
                {"int", {{"acquire_layer", acquireLayer}, {"insert_layer", insertLayer}}},
                {"adapter", {{"per_pair", adapterPerPair}, {"hidden", adapterHidden}, {"norm", adapterNorm}}},
                {"slice_pool", {{"aux", slicePoolAux}, {"primary", slicePoolPrimary}}},
                {"mean", {mean[0], mean[1], mean[2]}},
                {"std", {std[0], std[1], std[2]}}};
}

std::string ModelConfig::toJsonText(int indent) const
{
    return toJson().dump(indent);
}

}  // namespace ei
