// Official EI checkpoint -> .eimodel (see OfficialEiImporter.h). The key table is
// OFFICIAL_EI.md section 8; the config values it must write are listed there too.
// Modality m of the .eimodel is the m-th entry of the official `modality_idx`; the
// checkpoint names modalities by their dataset column as a string ("0", "1", ...).
#include "models/import/OfficialEiImporter.h"

#include "models/ei/EiModel.h"
#include "models/io/EiModelFile.h"
#include "models/Error.h"
#include "models/io/TensorSet.h"
#include "models/ei/ModelConfig.h"
#include "models/vit/VisionTransformer.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace ei {

using nlohmann::json;

namespace {

bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

bool bitEqual(const torch::Tensor& a, const torch::Tensor& b)
{
    if (a.scalar_type() != b.scalar_type() || a.sizes() != b.sizes())
        return false;
    const auto ca = a.contiguous();
    const auto cb = b.contiguous();
    return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.numel() * ca.element_size()) == 0;
}

// The settings of the official JSON config that shape the model.
struct OfficialSettings {
    std::string family;
    std::vector<int> ranks{2, 4, 8};
    std::vector<double> alphas{4, 8, 16};
    std::vector<std::string> targets{"fc1", "fc2"};
    std::vector<int> modalityIdx;  // empty: from the checkpoint
    std::vector<std::string> modalityNames;
    std::vector<std::string> modalityKinds;
    std::vector<std::array<int, 2>> sizesByColumn;  // augmentation_params[column]
    std::vector<std::string> classes;
    bool multilabel = false;
    int slices = 0;  // sampling_num
    json priorGaps;
};

[[noreturn]] void configFail(const std::string& source, const std::string& key, const std::string& problem)
{
    throw BadInputError(source, "official config key '" + key + "': " + problem);
}

std::vector<std::string> classesFromMapping(const json& mapping, const std::string& source, const std::string& key)
{
    if (!mapping.is_object() || mapping.empty())
        configFail(source, key, "must map class names to indices 0..C-1");
    std::vector<std::string> classes(mapping.size());
    for (const auto& item : mapping.items()) {
        if (!item.value().is_number_integer())
            configFail(source, key, "the index of class '" + item.key() + "' is not an integer");
        const auto i = item.value().get<long long>();
        if (i < 0 || i >= static_cast<long long>(classes.size()) || !classes[i].empty())
            configFail(source, key, "class indices must be 0..C-1, each once");
        classes[i] = item.key();
    }
    return classes;
}

OfficialSettings readSettings(const json& c, const std::string& source)
{
    if (!c.is_object())
        throw BadInputError(source, "the official config is not a JSON object");
    OfficialSettings s;
    if (!c.contains("net") || !c["net"].is_string())
        configFail(source, "net", "missing (expected dinov2_b or openclip_vit_b)");
    const std::string net = c["net"];
    if (net.find("dinov2") != std::string::npos)
        s.family = "dinov2";
    else if (net.find("clip") != std::string::npos)
        s.family = "clip";
    else
        configFail(source, "net", "'" + net + "' is not a DINOv2 or CLIP backbone");
    if (c.contains("transfer_type") && c["transfer_type"] != "mor")
        configFail(source, "transfer_type", "only 'mor' checkpoints can be imported");

    if (c.contains("lora_params")) {
        const json& lp = c["lora_params"];
        try {
            if (lp.contains("r"))
                s.ranks = lp.at("r").get<std::vector<int>>();
            if (lp.contains("alpha"))
                s.alphas = lp.at("alpha").get<std::vector<double>>();
        } catch (const json::exception&) {
            configFail(source, "lora_params", "r and alpha must be lists of numbers");
        }
        if (s.ranks.empty() || s.ranks.size() != s.alphas.size())
            configFail(source, "lora_params", "r and alpha must be non-empty and of equal length");
    }
    if (c.contains("lora_layers")) {
        if (!c["lora_layers"].is_array())
            configFail(source, "lora_layers", "must be a list");
        s.targets.clear();
        for (const auto& l : c["lora_layers"]) {
            const std::string name = l.is_string() ? l.get<std::string>() : "";
            static const std::map<std::string, std::string> known{
                {"mlp_fc1", "fc1"}, {"mlp_fc2", "fc2"}, {"fc1", "fc1"},       {"fc2", "fc2"},
                {"q", "q"},         {"k", "k"},         {"v", "v"},           {"proj", "proj"},
                {"attn_q", "q"},    {"attn_k", "k"},    {"attn_v", "v"},      {"attn_proj", "proj"}};
            const auto it = known.find(name);
            if (it == known.end())
                configFail(source, "lora_layers", "unknown layer '" + name + "'");
            s.targets.push_back(it->second);
        }
    }

    if (c.contains("modality_idx")) {
        try {
            s.modalityIdx = c["modality_idx"].get<std::vector<int>>();
        } catch (const json::exception&) {
            configFail(source, "modality_idx", "must be a list of integers");
        }
        std::set<int> seen(s.modalityIdx.begin(), s.modalityIdx.end());
        if (s.modalityIdx.empty() || seen.size() != s.modalityIdx.size() || *seen.begin() < 0)
            configFail(source, "modality_idx", "must list distinct non-negative column indices");
    }

    if (!c.contains("augmentation_params"))
        configFail(source, "augmentation_params", "missing (it gives each modality's size_h / size_w)");
    {
        json ap = c["augmentation_params"];
        if (ap.is_object())
            ap = json::array({ap});
        if (!ap.is_array())
            configFail(source, "augmentation_params", "must be a list of {size_h, size_w} objects");
        for (const auto& a : ap) {
            if (!a.is_object() || !a.contains("size_h") || !a.contains("size_w") || !a["size_h"].is_number_integer() ||
                !a["size_w"].is_number_integer())
                configFail(source, "augmentation_params", "every entry needs integer size_h and size_w");
            s.sizesByColumn.push_back({a["size_h"].get<int>(), a["size_w"].get<int>()});
        }
    }

    if (c.contains("classes")) {
        try {
            s.classes = c["classes"].get<std::vector<std::string>>();
        } catch (const json::exception&) {
            configFail(source, "classes", "must be a list of class names");
        }
    } else if (c.contains("mapping")) {
        const json& m = c["mapping"];
        if (m.is_string()) {
            std::filesystem::path p = m.get<std::string>();
            if (p.is_relative())
                p = std::filesystem::path(source).parent_path() / p;
            std::ifstream in(p);
            if (!in)
                configFail(source, "mapping", "cannot read the mapping file " + p.string());
            const json mj = json::parse(in, nullptr, false);
            if (mj.is_discarded())
                throw BadInputError(p.string(), "mapping file is not valid JSON");
            s.classes = classesFromMapping(mj, p.string(), "mapping");
        } else {
            s.classes = classesFromMapping(m, source, "mapping");
        }
    } else {
        configFail(source, "mapping", "missing: give the class names as 'classes' (a list) or 'mapping' "
                                      "({name: index} or the path of mapping_<dataset>.json)");
    }
    if (s.classes.empty())
        configFail(source, "classes", "no class names");

    if (c.contains("loss_func")) {
        if (!c["loss_func"].is_string())
            configFail(source, "loss_func", "must be a string");
        const std::string loss = c["loss_func"];
        if (loss == "bce")
            s.multilabel = true;
        else if (loss != "ce")
            configFail(source, "loss_func", "'" + loss + "' is neither ce nor bce");
    }
    if (c.contains("sampling_num")) {
        if (!c["sampling_num"].is_number_integer() || c["sampling_num"].get<int>() < 1)
            configFail(source, "sampling_num", "must be a positive integer");
        s.slices = c["sampling_num"].get<int>();
    }
    auto readNames = [&](const char* key, std::vector<std::string>& out) {
        if (!c.contains(key))
            return;
        try {
            out = c[key].get<std::vector<std::string>>();
        } catch (const json::exception&) {
            configFail(source, key, "must be a list of strings");
        }
    };
    readNames("modality_names", s.modalityNames);
    readNames("modality_kinds", s.modalityKinds);
    if (c.contains("prior_gaps"))
        s.priorGaps = c["prior_gaps"];
    return s;
}

// Official MoR key (below `backbone.blocks.{i}.`) -> canonical "{target}.{router.weight|A{k}|B{k}}".
struct MorKey {
    int block;
    std::string target;
    std::string leaf;
};

std::optional<MorKey> parseMorKey(const std::string& key)
{
    static const std::regex route(R"(blocks\.(\d+)\.(mlp\.fc1|mlp\.fc2|attn\.proj|attn\.qkv)\.route(_[qkv])?\.(weight|bias))");
    static const std::regex lora(R"(blocks\.(\d+)\.(mlp\.fc1|mlp\.fc2|attn\.proj|attn\.qkv)\.lora_(as|bs)(_[qkv])?\.(\d+)\.weight)");
    auto target = [](const std::string& layer, const std::string& suffix) -> std::string {
        if (layer == "attn.qkv")
            return suffix.empty() ? "" : suffix.substr(1);
        if (!suffix.empty())
            return "";
        return layer == "mlp.fc1" ? "fc1" : layer == "mlp.fc2" ? "fc2" : "proj";
    };
    std::smatch m;
    if (std::regex_match(key, m, route)) {
        const auto t = target(m[2].str(), m[3].str());
        if (t.empty())
            return std::nullopt;
        return MorKey{std::stoi(m[1].str()), t, "router." + m[4].str()};
    }
    if (std::regex_match(key, m, lora)) {
        const auto t = target(m[2].str(), m[4].str());
        if (t.empty())
            return std::nullopt;
        return MorKey{std::stoi(m[1].str()), t, (m[3].str() == "as" ? "A" : "B") + m[5].str()};
    }
    return std::nullopt;
}

// One stage-1-shaped model (`backbone.*` + `fc.*`) out of the checkpoint, under `prefix`.
struct UnimodalPart {
    ImportedBackbone backbone;
    std::map<std::string, torch::Tensor> mor;   // "blocks.{i}.{target}.{leaf}"
    std::map<std::string, torch::Tensor> head;  // "weight", "bias"
};

UnimodalPart splitUnimodal(const std::map<std::string, torch::Tensor>& ckpt, const std::string& prefix,
                           std::set<std::string>& consumed, const std::string& family, int heads,
                           const std::string& source)
{
    UnimodalPart part;
    std::map<std::string, torch::Tensor> backboneKeys;
    const std::string bb = prefix + "backbone.";
    static const std::regex base(R"((blocks\.\d+\.(mlp\.fc1|mlp\.fc2|attn\.proj|attn\.qkv))\.linear\.(weight|bias))");
    for (const auto& [key, value] : ckpt) {
        if (startsWith(key, bb)) {
            const std::string rest = key.substr(bb.size());
            consumed.insert(key);
            if (const auto mk = parseMorKey(rest)) {
                part.mor["blocks." + std::to_string(mk->block) + "." + mk->target + "." + mk->leaf] =
                    value.to(torch::kFloat).contiguous();
                continue;
            }
            std::smatch m;
            // The MoR base layer keeps the frozen weight as `.linear`.
            backboneKeys[std::regex_match(rest, m, base) ? m[1].str() + "." + m[3].str() : rest] = value;
        } else if (key == prefix + "fc.weight" || key == prefix + "fc.bias") {
            consumed.insert(key);
            part.head[key.substr(prefix.size() + 3)] = value.to(torch::kFloat).contiguous();
        }
    }
    if (backboneKeys.empty())
        throw ModelError(source, "no tensors under '" + bb + "'");
    if (part.head.size() != 2)
        throw ModelError(source, "missing tensor '" + prefix + "fc.weight' or '" + prefix + "fc.bias'");
    BackboneImporter::Options o;
    o.family = family;
    o.heads = heads;
    part.backbone = BackboneImporter::convert(backboneKeys, {}, o, source + " (" + bb + ")");
    return part;
}

void requireSameBackbone(const ImportedBackbone& a, const ImportedBackbone& b, const std::string& what,
                         const std::string& source)
{
    for (const auto& [name, t] : a.tensors) {
        const auto it = b.tensors.find(name);
        if (it == b.tensors.end() || !bitEqual(t, it->second))
            throw ModelError(source, what + " differs at tensor '" + name +
                                         "'; the frozen backbone copies must be bit-identical");
    }
    if (a.tensors.size() != b.tensors.size())
        throw ModelError(source, what + " has a different set of tensors");
}

}  // namespace

OfficialEiModel OfficialEiImporter::convert(const json& officialConfig, const std::string& configSource,
                                            const std::map<std::string, torch::Tensor>& checkpointIn,
                                            const std::string& source, int heads)
{
    const OfficialSettings s = readSettings(officialConfig, configSource);

    std::map<std::string, torch::Tensor> ckpt;
    const bool allModule = std::all_of(checkpointIn.begin(), checkpointIn.end(),
                                       [](const auto& kv) { return startsWith(kv.first, "module."); });
    for (const auto& [k, v] : checkpointIn)
        ckpt[allModule ? k.substr(7) : k] = v;

    const bool ei = std::any_of(ckpt.begin(), ckpt.end(), [](const auto& kv) { return startsWith(kv.first, "first_backbones."); });
    const bool uni = ckpt.count("fc.weight") > 0;
    if (!ei && !uni)
        throw ModelError(source, "neither an EI checkpoint (first_backbones.*, second_backbones.*, projs_cls.*, "
                                 "route.*) nor a stage-1 one (backbone.*, fc.*) of the official code");

    // Modality columns: the config's modality_idx, checked against the checkpoint.
    std::vector<int> idx = s.modalityIdx;
    std::set<int> inCkpt;
    if (ei) {
        static const std::regex copy(R"(first_backbones\.(\d+)\..*)");
        for (const auto& [k, v] : ckpt) {
            std::smatch m;
            if (std::regex_match(k, m, copy))
                inCkpt.insert(std::stoi(m[1].str()));
        }
        if (idx.empty())
            idx.assign(inCkpt.begin(), inCkpt.end());
        if (std::set<int>(idx.begin(), idx.end()) != inCkpt)
            configFail(configSource, "modality_idx", "does not match the modalities of checkpoint " + source);
    } else if (idx.size() != 1) {
        if (idx.empty())
            idx = {0};
        else
            configFail(configSource, "modality_idx", "a stage-1 checkpoint has exactly one modality");
    }
    const int M = static_cast<int>(idx.size());
    const int C = static_cast<int>(s.classes.size());

    OfficialEiModel out;
    std::set<std::string> consumed;
    auto addMor = [&](const std::string& role, int m, const UnimodalPart& part) {
        for (const auto& [k, v] : part.mor)
            out.parameters["mor." + role + "." + std::to_string(m) + "." + k] = v;
        for (const auto& [k, v] : part.head)
            out.parameters["head." + role + "." + std::to_string(m) + "." + k] = v;
    };
    if (ei) {
        bool first = true;
        for (int m = 0; m < M; ++m) {
            const std::string o = std::to_string(idx[m]);
            for (const auto& [official, role] : {std::pair<std::string, std::string>{"first_backbones", "aux"},
                                                 {"second_backbones", "primary"}}) {
                const std::string prefix = official + "." + o + ".";
                auto part = splitUnimodal(ckpt, prefix, consumed, s.family, heads, source);
                if (first) {
                    out.backbone = std::move(part.backbone);
                    first = false;
                } else {
                    requireSameBackbone(out.backbone, part.backbone, "backbone copy '" + prefix + "backbone.'", source);
                }
                addMor(role, m, part);
            }
        }
        const std::int64_t d = out.backbone.config.at("embed_dim").get<std::int64_t>();
        for (int t = 0; t < M; ++t)
            for (int r = 0; r < M; ++r) {
                if (t == r)
                    continue;
                const std::string p = "projs_cls." + std::to_string(idx[t]) + "_" + std::to_string(idx[r]) + ".";
                const std::string q = "adapter." + std::to_string(t) + "." + std::to_string(r) + ".";
                for (const auto& [from, to] : {std::pair<std::string, std::string>{"ln.", "norm."}, {"mlp.0.", "fc1."},
                                               {"mlp.2.", "fc2."}})
                    for (const char* leaf : {"weight", "bias"}) {
                        const auto it = ckpt.find(p + from + leaf);
                        if (it == ckpt.end())
                            throw ModelError(source, "missing tensor '" + p + from + leaf + "'");
                        consumed.insert(it->first);
                        out.parameters[q + to + leaf] = it->second.to(torch::kFloat).contiguous();
                    }
            }
        // Gate: the official code concatenates the primary CLS in sorted(str(idx)) order and
        // its softmax outputs follow that order too; ours follow modality_idx order.
        std::vector<std::string> sorted;
        for (int i : idx)
            sorted.push_back(std::to_string(i));
        std::sort(sorted.begin(), sorted.end());
        std::vector<std::int64_t> perm(M);
        for (int m = 0; m < M; ++m)
            perm[m] = std::find(sorted.begin(), sorted.end(), std::to_string(idx[m])) - sorted.begin();
        const auto w = ckpt.find("route.weight");
        const auto b = ckpt.find("route.bias");
        if (w == ckpt.end() || b == ckpt.end())
            throw ModelError(source, "missing tensor 'route.weight' or 'route.bias'");
        consumed.insert("route.weight");
        consumed.insert("route.bias");
        if (w->second.sizes().vec() != std::vector<std::int64_t>{M, M * d} || b->second.sizes().vec() != std::vector<std::int64_t>{M})
            throw ModelError(source, "tensor 'route.weight' has shape " + shapeText(w->second.sizes().vec()) +
                                         ", expected " + shapeText({M, M * d}));
        const auto W = w->second.to(torch::kFloat);
        const auto permT = torch::tensor(perm, torch::kLong);
        std::vector<torch::Tensor> blocks;
        for (int j = 0; j < M; ++j)
            blocks.push_back(W.index_select(0, permT).narrow(1, perm[j] * d, d));
        out.parameters["gate.weight"] = torch::cat(blocks, 1).contiguous();
        out.parameters["gate.bias"] = b->second.to(torch::kFloat).index_select(0, permT).contiguous();
    } else {
        auto part = splitUnimodal(ckpt, "", consumed, s.family, heads, source);
        out.backbone = std::move(part.backbone);
        addMor("uni", 0, part);
    }
    for (const auto& [k, v] : ckpt)
        if (!consumed.count(k))
            throw ModelError(source, "unexpected tensor '" + k + "' in an official " + std::string(ei ? "EI" : "stage-1") +
                                         " checkpoint");

    // The .eimodel config (MODEL.md section 7), with the official code's settings.
    json modalities = json::array();
    for (int m = 0; m < M; ++m) {
        const int col = idx[m];
        if (col >= static_cast<int>(s.sizesByColumn.size()))
            configFail(configSource, "augmentation_params", "has no entry for modality column " + std::to_string(col));
        std::string name = "modality" + std::to_string(col);
        if (!s.modalityNames.empty()) {
            // modality_names lists names per modality, or per dataset column like augmentation_params.
            if (static_cast<int>(s.modalityNames.size()) == M)
                name = s.modalityNames[m];
            else if (static_cast<int>(s.modalityNames.size()) > col)
                name = s.modalityNames[col];
            else
                configFail(configSource, "modality_names", "needs one name per modality");
        }
        std::string kind = s.slices > 1 ? "volume" : "image";
        if (!s.modalityKinds.empty()) {
            if (static_cast<int>(s.modalityKinds.size()) != M)
                configFail(configSource, "modality_kinds", "needs one kind per modality");
            kind = s.modalityKinds[m];
        }
        json mod = {{"name", name}, {"kind", kind}, {"size", {s.sizesByColumn[col][0], s.sizesByColumn[col][1]}}};
        if (kind == "volume")
            mod["slices"] = s.slices > 0 ? s.slices : 4;
        modalities.push_back(mod);
    }
    const int depth = out.backbone.config.at("depth").get<int>();
    json cfg = {
        {"backbone", out.backbone.config},
        {"modalities", modalities},
        {"classes", s.classes},
        {"multilabel", s.multilabel},
        {"fusion", ei ? "ei" : "unimodal"},
        {"mor", {{"ranks", s.ranks}, {"alphas", s.alphas}, {"targets", s.targets}, {"bypass", true}}},
        {"int", {{"acquire_layer", depth}, {"insert_layer", 0}}},
        {"adapter", {{"per_pair", true}, {"hidden", 384}, {"norm", true}}},
        {"slice_pool", {{"aux", "max"}, {"primary", "mean"}}},
        // The official code normalises with CLIP's mean / std for both families.
        {"mean", {0.48145466, 0.4578275, 0.40821073}},
        {"std", {0.26862954, 0.26130258, 0.27577711}},
    };
    if (ei && M > 1) {
        const auto& fc1 = out.parameters.find("adapter.0.1.fc1.weight");
        if (fc1 != out.parameters.end())
            cfg["adapter"]["hidden"] = fc1->second.size(0);
    }
    const ModelConfig model = ModelConfig::fromJson(cfg, configSource);  // validates (BadInputError naming the key)
    out.config = model.toJson();

    // Every tensor the engine expects, with its shape; nothing else.
    const auto expected = EiModel::tensorShapes(model);
    std::set<std::string> names;
    for (const auto& [name, shape] : expected) {
        names.insert(name);
        const auto it = out.parameters.find(name);
        if (it == out.parameters.end())
            throw ModelError(source, "checkpoint lacks the tensor that becomes '" + name +
                                         "' (check lora_layers / lora_params against the checkpoint)");
        if (it->second.sizes().vec() != shape)
            throw ModelError(source, "tensor that becomes '" + name + "' has shape " +
                                         shapeText(it->second.sizes().vec()) + ", expected " + shapeText(shape));
    }
    for (const auto& [name, t] : out.parameters)
        if (!names.count(name))
            throw ModelError(source, "tensor that becomes '" + name + "' is not part of a model with lora_layers " +
                                         json(s.targets).dump() + " and " + std::to_string(C) + " classes");

    out.training = {{"source", "official EI code (ruc-aimc-lab/EI)"},
                    {"stage", ei ? "ei" : "unimodal"},
                    {"checkpoint", std::filesystem::path(source).filename().string()},
                    {"official_config", std::filesystem::path(configSource).filename().string()},
                    {"modality_idx", idx},
                    {"net", officialConfig.at("net")}};
    if (!s.priorGaps.is_null())
        out.training["prior_gaps"] = s.priorGaps;
    return out;
}

OfficialEiModel OfficialEiImporter::convert(const Options& options, const JobControl* control)
{
    if (control)
        control->checkpoint(0.0, "reading the official config");
    std::ifstream in(options.configPath);
    if (!in)
        throw BadInputError(options.configPath, "cannot open the official config");
    const json read = json::parse(in, nullptr, false);
    if (read.is_discarded())
        throw BadInputError(options.configPath, "the official config is not valid JSON");
    const json config = flattenOfficialConfig(read, options.configPath, options);
    if (control)
        control->checkpoint(0.1, "reading the checkpoint");
    const auto ckpt = BackboneImporter::readWeights(options.checkpointPath);
    if (control)
        control->checkpoint(0.5, "converting");
    OfficialEiModel model = convert(config, options.configPath, ckpt, options.checkpointPath, options.heads);

    // Stage-1 checkpoints given with --uni-ckpt: the EI run must have started from their
    // frozen backbone (a different one means the wrong files were paired).
    const ModelConfig cfg = ModelConfig::fromJson(model.config, options.configPath);
    for (const auto& [modality, file] : options.uniCheckpoints) {
        int m = cfg.modalityIndex(modality);
        if (m < 0) {
            try {
                std::size_t used = 0;
                m = std::stoi(modality, &used);
                if (used != modality.size() || m < 0 || m >= cfg.numModalities())
                    m = -1;
            } catch (...) {
                m = -1;
            }
        }
        if (m < 0)
            throw UsageError("--uni-ckpt " + modality + "=...: no such modality (name or index)");
        auto uniCkpt = BackboneImporter::readWeights(file);
        if (std::all_of(uniCkpt.begin(), uniCkpt.end(), [](const auto& kv) { return startsWith(kv.first, "module."); })) {
            std::map<std::string, torch::Tensor> stripped;
            for (const auto& [k, v] : uniCkpt)
                stripped[k.substr(7)] = v;
            uniCkpt = std::move(stripped);
        }
        std::set<std::string> consumed;
        const auto uni = splitUnimodal(uniCkpt, "", consumed, cfg.backbone.family, options.heads, file);
        requireSameBackbone(model.backbone, uni.backbone, "the backbone of stage-1 checkpoint " + file, file);
    }
    if (!options.backbonePath.empty()) {
        BackboneImporter::Options o;
        o.heads = options.heads;
        const auto ref = BackboneImporter::importFile(options.backbonePath, o);
        if (ref.scheme != "EIView canonical")
            throw ModelError(options.backbonePath, "a referenced backbone must be an EIView backbone file; convert "
                                                   "it first with eiview-cli import-backbone");
        requireSameBackbone(model.backbone, ref, "the backbone file " + options.backbonePath, options.checkpointPath);
    }
    if (control)
        control->checkpoint(0.9, "checked");
    return model;
}

OfficialEiModel OfficialEiImporter::importToFile(const Options& options, const std::string& outPath,
                                                 const JobControl* control)
{
    OfficialEiModel model = convert(options, control);
    // The engine's own classes check the result once more and write it, so an imported
    // model is byte-for-byte what the engine itself would save.
    ModelConfig config = ModelConfig::fromJson(model.config, options.configPath);
    auto backbone = std::make_shared<VisionTransformer>(config.backbone, model.backbone.tensors, options.checkpointPath);
    const EiModel eiModel(config, backbone, model.parameters, options.checkpointPath);
    EiModelWriteOptions write;
    write.backbonePath = options.backbonePath;
    write.trainingJson = model.training.dump();
    write.intendedUse = "Imported from a checkpoint of the official EI code; research use only, not for clinical use.";
    EiModelFile::write(outPath, eiModel, write);
    if (control)
        control->report(1.0, "written");
    return model;
}

}  // namespace ei
