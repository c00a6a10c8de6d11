// Naming-scheme detection and mapping for backbone weights (see BackboneImporter.h).
// The tables below are VFM_WEIGHTS.md sections 4.2-4.4 written as rules: one regular
// expression per source name, the canonical name it becomes, and the one transform the
// value needs, if any. Every source tensor must match a rule (a name that matches none
// is reported as unexpected), and the result is checked against the shapes the inferred
// config implies, so a half-mapped or odd checkpoint can never be written.
#include "models/import/BackboneImporter.h"

#include "models/io/EiModelFile.h"
#include "models/Error.h"
#include "models/io/TensorSet.h"
#include "models/ei/ModelConfig.h"
#include "models/import/PthReader.h"
#include "models/io/Safetensors.h"
#include "models/vit/VisionTransformer.h"

#include <cmath>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

namespace ei {

namespace {

enum class Transform {
    Copy,
    Ignore,          // not a backbone weight (mask token, text tower, projection, classifier, ...)
    ClassEmbedding,  // CLIP's class embedding [d] -> [1, 1, d]
    AddBatch,        // CLIP's positional embedding [n, d] -> [1, n, d]
    NoClassPos,      // timm reg4: pos_embed without class entry -> prepend a zero row
    SplitQkv,        // one of q / k / v, fused along dim 0 in that order
};

struct Rule {
    std::regex pattern;
    std::string target;  // $1, $2, ... replaced by the capture groups
    Transform transform = Transform::Copy;
    int qkvGroup = 0;    // SplitQkv: the capture group naming q, k or v
};

struct Scheme {
    std::string name;
    std::string family;  // dinov2 | clip | "" (canonical: from metadata / tensors)
    std::vector<Rule> rules;
};

Rule rule(const std::string& pattern, const std::string& target, Transform t = Transform::Copy, int qkvGroup = 0)
{
    return Rule{std::regex(pattern), target, t, qkvGroup};
}

std::vector<Rule> dinov2Blocks()
{
    return {
        rule(R"(blocks\.(\d+)\.(norm1|norm2)\.(weight|bias))", "blocks.$1.$2.$3"),
        rule(R"(blocks\.(\d+)\.attn\.(qkv|proj)\.(weight|bias))", "blocks.$1.attn.$2.$3"),
        rule(R"(blocks\.(\d+)\.ls(1|2)\.gamma)", "blocks.$1.ls$2"),
        rule(R"(blocks\.(\d+)\.mlp\.(fc1|fc2)\.(weight|bias))", "blocks.$1.mlp.$2.$3"),
        rule(R"(norm\.(weight|bias))", "norm.$1"),
        rule(R"(patch_embed\.proj\.(weight|bias))", "patch_embed.$1"),
        rule(R"(cls_token)", "cls_token"),
    };
}

Scheme officialDinov2()
{
    Scheme s{"official DINOv2", "dinov2", dinov2Blocks()};
    s.rules.push_back(rule(R"(pos_embed)", "pos_embed"));
    s.rules.push_back(rule(R"(register_tokens)", "reg_tokens"));
    s.rules.push_back(rule(R"(mask_token)", "", Transform::Ignore));
    return s;
}

Scheme timmDinov2(bool registers)
{
    Scheme s{registers ? "timm DINOv2 (registers)" : "timm DINOv2", "dinov2", dinov2Blocks()};
    // timm's reg4 conversion folded pos[0] into cls_token and dropped the class entry.
    s.rules.push_back(rule(R"(pos_embed)", "pos_embed", registers ? Transform::NoClassPos : Transform::Copy));
    s.rules.push_back(rule(R"(reg_token)", "reg_tokens"));
    return s;
}

Scheme hfDinov2()
{
    const std::string L = R"(encoder\.layer\.(\d+)\.)";
    return Scheme{"Hugging Face Dinov2Model",
                  "dinov2",
                  {
                      rule(R"(embeddings\.cls_token)", "cls_token"),
                      rule(R"(embeddings\.position_embeddings)", "pos_embed"),
                      rule(R"(embeddings\.mask_token)", "", Transform::Ignore),
                      rule(R"(embeddings\.register_tokens)", "reg_tokens"),
                      rule(R"(embeddings\.patch_embeddings\.projection\.(weight|bias))", "patch_embed.$1"),
                      rule(L + R"((norm1|norm2)\.(weight|bias))", "blocks.$1.$2.$3"),
                      rule(L + R"(attention\.attention\.(query|key|value)\.(weight|bias))", "blocks.$1.attn.qkv.$3",
                           Transform::SplitQkv, 2),
                      rule(L + R"(attention\.output\.dense\.(weight|bias))", "blocks.$1.attn.proj.$2"),
                      rule(L + R"(layer_scale(1|2)\.lambda1)", "blocks.$1.ls$2"),
                      rule(L + R"(mlp\.(fc1|fc2)\.(weight|bias))", "blocks.$1.mlp.$2.$3"),
                      rule(R"(layernorm\.(weight|bias))", "norm.$1"),
                      rule(R"(classifier\..*)", "", Transform::Ignore),
                  }};
}

Scheme openaiClip()
{
    const std::string B = R"(visual\.transformer\.resblocks\.(\d+)\.)";
    return Scheme{"OpenAI / open_clip CLIP",
                  "clip",
                  {
                      rule(R"(visual\.class_embedding)", "cls_token", Transform::ClassEmbedding),
                      rule(R"(visual\.positional_embedding)", "pos_embed", Transform::AddBatch),
                      rule(R"(visual\.conv1\.weight)", "patch_embed.weight"),
                      rule(R"(visual\.ln_pre\.(weight|bias))", "norm_pre.$1"),
                      rule(B + R"(ln_1\.(weight|bias))", "blocks.$1.norm1.$2"),
                      rule(B + R"(ln_2\.(weight|bias))", "blocks.$1.norm2.$2"),
                      rule(B + R"(attn\.in_proj_(weight|bias))", "blocks.$1.attn.qkv.$2"),
                      rule(B + R"(attn\.out_proj\.(weight|bias))", "blocks.$1.attn.proj.$2"),
                      rule(B + R"(mlp\.c_fc\.(weight|bias))", "blocks.$1.mlp.fc1.$2"),
                      rule(B + R"(mlp\.c_proj\.(weight|bias))", "blocks.$1.mlp.fc2.$2"),
                      rule(R"(visual\.ln_post\.(weight|bias))", "norm.$1"),
                      rule(R"(visual\.proj)", "", Transform::Ignore),  // the EI model uses the normed tokens
                      rule(R"((?!visual\.).*)", "", Transform::Ignore),  // text tower, logit_scale, JIT constants
                  }};
}

Scheme hfClip()
{
    const std::string L = R"(vision_model\.encoder\.layers\.(\d+)\.)";
    return Scheme{"Hugging Face CLIPVisionModel / CLIPModel",
                  "clip",
                  {
                      rule(R"(vision_model\.embeddings\.class_embedding)", "cls_token", Transform::ClassEmbedding),
                      rule(R"(vision_model\.embeddings\.position_embedding\.weight)", "pos_embed", Transform::AddBatch),
                      rule(R"(vision_model\.embeddings\.patch_embedding\.weight)", "patch_embed.weight"),
                      rule(R"(vision_model\.embeddings\.position_ids)", "", Transform::Ignore),
                      rule(R"(vision_model\.pre_layrnorm\.(weight|bias))", "norm_pre.$1"),
                      rule(L + R"(layer_norm1\.(weight|bias))", "blocks.$1.norm1.$2"),
                      rule(L + R"(layer_norm2\.(weight|bias))", "blocks.$1.norm2.$2"),
                      rule(L + R"(self_attn\.(q_proj|k_proj|v_proj)\.(weight|bias))", "blocks.$1.attn.qkv.$3",
                           Transform::SplitQkv, 2),
                      rule(L + R"(self_attn\.out_proj\.(weight|bias))", "blocks.$1.attn.proj.$2"),
                      rule(L + R"(mlp\.(fc1|fc2)\.(weight|bias))", "blocks.$1.mlp.$2.$3"),
                      rule(R"(vision_model\.post_layernorm\.(weight|bias))", "norm.$1"),
                      rule(R"(visual_projection\.weight)", "", Transform::Ignore),
                      rule(R"((text_model|text_projection|logit_scale).*)", "", Transform::Ignore),
                  }};
}

Scheme timmClip()
{
    Scheme s{"timm CLIP", "clip", dinov2Blocks()};
    s.rules.push_back(rule(R"(pos_embed)", "pos_embed"));
    s.rules.push_back(rule(R"(norm_pre\.(weight|bias))", "norm_pre.$1"));
    s.rules.push_back(rule(R"(head\.(weight|bias))", "", Transform::Ignore));  // the CLIP projection
    return s;
}

Scheme canonical()
{
    Scheme s{"EIView canonical", "", {}};
    s.rules.push_back(rule(R"((cls_token|reg_tokens|pos_embed|patch_embed\.(weight|bias)|norm_pre\.(weight|bias)|norm\.(weight|bias)))", "$1"));
    s.rules.push_back(rule(R"((blocks\.\d+\.(norm1|norm2|attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)\.(weight|bias)))", "$1"));
    s.rules.push_back(rule(R"((blocks\.\d+\.ls[12]))", "$1"));
    s.rules.push_back(rule(R"((mask_token|head\.weight|head\.bias))", "", Transform::Ignore));
    return s;
}

bool startsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

const char* kRecognised =
    "recognised schemes: OpenAI/open_clip CLIP (visual.class_embedding), Hugging Face CLIP "
    "(vision_model.embeddings.class_embedding), timm CLIP (cls_token + norm_pre.weight), official DINOv2 "
    "(mask_token + blocks.0.attn.qkv.weight), Hugging Face DINOv2 (embeddings.position_embeddings), timm DINOv2 "
    "(cls_token + blocks.0.ls1.gamma), EIView canonical (cls_token + patch_embed.weight)";

// Reads head count / eps from a safetensors __metadata__ map: plain keys, or a `config`
// JSON (an EIView backbone object, an .eimodel config, or a Hugging Face config).
std::optional<double> metadataNumber(const std::map<std::string, std::string>& metadata,
                                     const std::vector<std::string>& keys)
{
    for (const auto& k : keys) {
        const auto it = metadata.find(k);
        if (it != metadata.end()) {
            try {
                return std::stod(it->second);
            } catch (...) {
            }
        }
    }
    const auto cfg = metadata.find("config");
    if (cfg == metadata.end())
        return std::nullopt;
    const auto json = nlohmann::json::parse(cfg->second, nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return std::nullopt;
    for (const auto* obj : {&json, json.contains("backbone") ? &json["backbone"] : nullptr,
                            json.contains("vision_config") ? &json["vision_config"] : nullptr}) {
        if (!obj || !obj->is_object())
            continue;
        for (const auto& k : keys)
            if (obj->contains(k) && (*obj)[k].is_number())
                return (*obj)[k].get<double>();
    }
    return std::nullopt;
}

std::optional<std::string> metadataFamily(const std::map<std::string, std::string>& metadata)
{
    const auto cfg = metadata.find("config");
    if (cfg == metadata.end())
        return std::nullopt;
    const auto json = nlohmann::json::parse(cfg->second, nullptr, false);
    if (json.is_discarded() || !json.is_object())
        return std::nullopt;
    const nlohmann::json& obj = json.contains("backbone") ? json["backbone"] : json;
    if (obj.is_object() && obj.contains("family") && obj["family"].is_string())
        return obj["family"].get<std::string>();
    return std::nullopt;
}

}  // namespace

std::map<std::string, torch::Tensor> BackboneImporter::readWeights(const std::string& path,
                                                                   std::map<std::string, std::string>* metadata)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ModelError(path, "cannot open the file");
    char head[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
    in.read(head, 9);
    in.close();
    // safetensors: 8-byte length, then '{'. Its first byte may be 0x80 (a 128-byte
    // header), so it must be recognised before the legacy-pickle test below.
    const bool safetensors = head[8] == '{';
    if (!safetensors && (std::string(head, 4) == std::string("PK\x03\x04", 4) || static_cast<unsigned char>(head[0]) == 0x80))
        return readPthStateDict(path);
    auto file = readSafetensors(path);
    if (metadata)
        *metadata = file.metadata;
    return std::move(file.tensors);
}

std::map<std::string, std::vector<std::int64_t>> BackboneImporter::expectedShapes(const nlohmann::json& c)
{
    const std::int64_t d = c.at("embed_dim").get<std::int64_t>();
    const std::int64_t p = c.at("patch_size").get<std::int64_t>();
    const std::int64_t depth = c.at("depth").get<std::int64_t>();
    const std::int64_t hidden = std::llround(c.at("mlp_ratio").get<double>() * static_cast<double>(d));
    const std::int64_t regs = c.at("num_register_tokens").get<std::int64_t>();
    const auto grid = c.at("pos_grid").get<std::vector<std::int64_t>>();
    std::map<std::string, std::vector<std::int64_t>> e;
    e["cls_token"] = {1, 1, d};
    if (regs > 0)
        e["reg_tokens"] = {1, regs, d};
    e["pos_embed"] = {1, 1 + grid.at(0) * grid.at(1), d};
    e["patch_embed.weight"] = {d, 3, p, p};
    if (c.at("patch_bias").get<bool>())
        e["patch_embed.bias"] = {d};
    if (c.at("pre_norm").get<bool>()) {
        e["norm_pre.weight"] = {d};
        e["norm_pre.bias"] = {d};
    }
    for (std::int64_t i = 0; i < depth; ++i) {
        const std::string b = "blocks." + std::to_string(i) + ".";
        for (const char* n : {"norm1", "norm2"}) {
            e[b + n + ".weight"] = {d};
            e[b + n + ".bias"] = {d};
        }
        e[b + "attn.qkv.weight"] = {3 * d, d};
        e[b + "attn.qkv.bias"] = {3 * d};
        e[b + "attn.proj.weight"] = {d, d};
        e[b + "attn.proj.bias"] = {d};
        if (c.at("layer_scale").get<bool>()) {
            e[b + "ls1"] = {d};
            e[b + "ls2"] = {d};
        }
        e[b + "mlp.fc1.weight"] = {hidden, d};
        e[b + "mlp.fc1.bias"] = {hidden};
        e[b + "mlp.fc2.weight"] = {d, hidden};
        e[b + "mlp.fc2.bias"] = {d};
    }
    e["norm.weight"] = {d};
    e["norm.bias"] = {d};
    return e;
}

ImportedBackbone BackboneImporter::convert(const std::map<std::string, torch::Tensor>& sourceIn,
                                           const std::map<std::string, std::string>& metadata,
                                           const Options& options, const std::string& sourceName)
{
    if (options.family != "auto" && options.family != "dinov2" && options.family != "clip")
        throw UsageError("--family must be auto, dinov2 or clip, not '" + options.family + "'");
    if (sourceIn.empty())
        throw ModelError(sourceName, "holds no tensors");

    // Wrappers that only prefix every name: DataParallel `module.`, an .eimodel's
    // `backbone.`, HF classification models' `dinov2.` / `dinov2_with_registers.`.
    std::map<std::string, torch::Tensor> source = sourceIn;
    auto allHave = [&](const std::string& prefix) {
        for (const auto& [k, v] : source)
            if (!startsWith(k, prefix))
                return false;
        return true;
    };
    auto strip = [&](const std::string& prefix, bool dropOthers) {
        std::map<std::string, torch::Tensor> out;
        for (const auto& [k, v] : source) {
            if (startsWith(k, prefix))
                out[k.substr(prefix.size())] = v;
            else if (!dropOthers)
                out[k] = v;
        }
        source = std::move(out);
    };
    if (allHave("module."))
        strip("module.", false);
    if (source.count("backbone.cls_token") && source.count("backbone.patch_embed.weight"))
        strip("backbone.", true);  // an .eimodel: only its backbone part
    for (const char* p : {"dinov2_with_registers.", "dinov2."})
        if (source.count(std::string(p) + "embeddings.position_embeddings"))
            strip(p, false);
    // DINOv2 training checkpoints (block_chunks > 0): blocks.{chunk}.{i}. -> blocks.{i}.
    // (the chunk index is redundant: i counts globally).
    {
        static const std::regex chunked(R"(blocks\.\d+\.(\d+)\.(.*))");
        std::map<std::string, torch::Tensor> out;
        bool any = false;
        for (const auto& [k, v] : source) {
            std::smatch m;
            if (std::regex_match(k, m, chunked)) {
                any = true;
                out["blocks." + m[1].str() + "." + m[2].str()] = v;
            } else {
                out[k] = v;
            }
        }
        if (any)
            source = std::move(out);
    }

    auto has = [&](const char* k) { return source.count(k) > 0; };
    std::optional<Scheme> scheme;
    if (has("visual.class_embedding"))
        scheme = openaiClip();
    else if (has("vision_model.embeddings.class_embedding"))
        scheme = hfClip();
    else if (has("cls_token") && has("patch_embed.weight"))
        scheme = canonical();
    else if (has("cls_token") && has("norm_pre.weight"))
        scheme = timmClip();
    else if ((has("mask_token") || has("register_tokens")) && has("blocks.0.attn.qkv.weight"))
        scheme = officialDinov2();
    else if (has("embeddings.position_embeddings"))
        scheme = hfDinov2();
    else if (has("cls_token") && has("blocks.0.ls1.gamma"))
        scheme = timmDinov2(has("reg_token"));
    if (!scheme) {
        std::ostringstream names;
        int n = 0;
        for (const auto& [k, v] : source) {
            if (n++ == 6) {
                names << ", ...";
                break;
            }
            names << (n > 1 ? ", " : "") << k;
        }
        throw ModelError(sourceName, "unknown naming scheme (" + std::to_string(source.size()) +
                                         " tensors: " + names.str() + "); " + kRecognised);
    }

    // Map every tensor.
    ImportedBackbone out;
    out.scheme = scheme->name;
    std::map<std::string, std::array<torch::Tensor, 3>> qkvParts;
    for (const auto& [key, value] : source) {
        const Rule* hit = nullptr;
        std::smatch m;
        for (const auto& r : scheme->rules)
            if (std::regex_match(key, m, r.pattern)) {
                hit = &r;
                break;
            }
        if (!hit)
            throw ModelError(sourceName, "unexpected tensor '" + key + "' for the " + scheme->name + " naming scheme");
        if (hit->transform == Transform::Ignore)
            continue;
        if (!value.is_floating_point())
            throw ModelError(sourceName, "tensor '" + key + "' has dtype " + std::string(c10::toString(value.scalar_type())) +
                                             ", expected floating point");
        torch::Tensor t = value.to(torch::kFloat).contiguous();
        const std::string target = m.format(hit->target);
        switch (hit->transform) {
        case Transform::ClassEmbedding:
            if (t.dim() != 1)
                throw ModelError(sourceName, "tensor '" + key + "' has shape " + shapeText(t.sizes().vec()) + ", expected [d]");
            t = t.reshape({1, 1, t.size(0)});
            break;
        case Transform::AddBatch:
            if (t.dim() != 2)
                throw ModelError(sourceName, "tensor '" + key + "' has shape " + shapeText(t.sizes().vec()) + ", expected [n,d]");
            t = t.unsqueeze(0);
            break;
        case Transform::NoClassPos:
            if (t.dim() != 3 || t.size(0) != 1)
                throw ModelError(sourceName, "tensor '" + key + "' has shape " + shapeText(t.sizes().vec()) + ", expected [1,n,d]");
            // The class entry is zero: timm's cls_token already holds cls + pos[0].
            t = torch::cat({torch::zeros({1, 1, t.size(2)}), t}, 1);
            break;
        case Transform::SplitQkv: {
            const std::string which = m[hit->qkvGroup].str();
            const int part = (which[0] == 'q') ? 0 : (which[0] == 'k') ? 1 : 2;
            if (qkvParts[target][part].defined())
                throw ModelError(sourceName, "tensor '" + key + "' maps onto a part of '" + target + "' twice");
            qkvParts[target][part] = t;
            continue;
        }
        default:
            break;
        }
        if (!out.tensors.emplace(target, t).second)
            throw ModelError(sourceName, "two tensors map onto '" + target + "' (second: '" + key + "')");
    }
    for (auto& [target, parts] : qkvParts) {
        for (int i = 0; i < 3; ++i)
            if (!parts[i].defined())
                throw ModelError(sourceName, std::string("missing the ") + "qkv"[i] + " part of '" + target + "' (" +
                                                 scheme->name + " stores q, k, v apart)");
        if (parts[0].sizes() != parts[1].sizes() || parts[0].sizes() != parts[2].sizes())
            throw ModelError(sourceName, "the q, k, v parts of '" + target + "' differ in shape");
        out.tensors[target] = torch::cat({parts[0], parts[1], parts[2]}, 0).contiguous();
    }

    // Infer the config from the shapes.
    auto need = [&](const std::string& name) -> const torch::Tensor& {
        const auto it = out.tensors.find(name);
        if (it == out.tensors.end())
            throw ModelError(sourceName, "missing tensor '" + name + "' (canonical name) for the " + scheme->name +
                                             " naming scheme");
        return it->second;
    };
    const auto& patch = need("patch_embed.weight");
    if (patch.dim() != 4 || patch.size(1) != 3 || patch.size(2) != patch.size(3))
        throw ModelError(sourceName, "patch embedding has shape " + shapeText(patch.sizes().vec()) + ", expected [d,3,p,p]");
    const std::int64_t d = patch.size(0);
    std::int64_t depth = 0;
    static const std::regex blockIndex(R"(blocks\.(\d+)\..*)");
    for (const auto& [k, v] : out.tensors) {
        std::smatch m;
        if (std::regex_match(k, m, blockIndex))
            depth = std::max<std::int64_t>(depth, std::stoll(m[1].str()) + 1);
    }
    if (depth == 0)
        throw ModelError(sourceName, "no transformer blocks found");
    const auto& fc1 = need("blocks.0.mlp.fc1.weight");
    if (fc1.dim() != 2)
        throw ModelError(sourceName, "blocks.0.mlp.fc1.weight is not a matrix");
    const auto& pos = need("pos_embed");
    if (pos.dim() != 3)
        throw ModelError(sourceName, "pos_embed has shape " + shapeText(pos.sizes().vec()) + ", expected [1,1+G*G,d]");
    const std::int64_t cells = pos.size(1) - 1;
    const auto g = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(std::max<std::int64_t>(cells, 0)))));
    if (cells <= 0 || g * g != cells)
        throw ModelError(sourceName, "pos_embed has " + std::to_string(pos.size(1)) +
                                         " rows, not 1 + G*G for a square base grid");
    const std::int64_t regs = out.tensors.count("reg_tokens") ? need("reg_tokens").size(1) : 0;

    std::string family = scheme->family;
    if (family.empty())
        family = metadataFamily(metadata).value_or(out.tensors.count("norm_pre.weight") ? "clip" : "dinov2");
    if (options.family != "auto" && options.family != family)
        throw ModelError(sourceName, "--family " + options.family + " given, but the weights are " + family + " (" +
                                         scheme->name + " naming)");
    const bool clip = family == "clip";

    int heads = 0;
    if (auto h = metadataNumber(metadata, {"num_heads", "num_attention_heads"}))
        heads = static_cast<int>(*h);
    else if (d == 384 || d == 768 || d == 1024 || d == 1536)
        heads = d == 384 ? 6 : d == 768 ? 12 : d == 1024 ? 16 : 24;
    else if (options.heads > 0)
        heads = options.heads;
    else
        throw ModelError(sourceName, "cannot tell the number of attention heads for width " + std::to_string(d) +
                                         " (not in the metadata nor the ViT size table); pass --heads");
    if (options.heads > 0 && options.heads != heads)
        throw UsageError("--heads " + std::to_string(options.heads) + " contradicts the " + std::to_string(heads) +
                         " heads of " + sourceName);
    if (heads <= 0 || d % heads != 0)
        throw ModelError(sourceName, "width " + std::to_string(d) + " is not divisible by " + std::to_string(heads) + " heads");
    const double eps = metadataNumber(metadata, {"norm_eps", "layer_norm_eps"}).value_or(clip ? 1e-5 : 1e-6);

    out.config = {
        {"family", family},
        {"patch_size", patch.size(2)},
        {"embed_dim", d},
        {"depth", depth},
        {"num_heads", heads},
        {"mlp_ratio", static_cast<double>(fc1.size(0)) / static_cast<double>(d)},
        {"num_register_tokens", regs},
        {"pos_grid", {g, g}},
        {"norm_eps", eps},
        {"layer_scale", out.tensors.count("blocks.0.ls1") > 0},
        {"act", clip ? "quick_gelu" : "gelu"},
        {"pre_norm", out.tensors.count("norm_pre.weight") > 0},
        {"patch_bias", out.tensors.count("patch_embed.bias") > 0},
        {"pos_interp", "auto"},
        {"pad_to_patch", true},
    };
    // Keep settings a canonical file already states (e.g. pos_interp chosen by the user).
    if (scheme->family.empty()) {
        const auto cfg = metadata.find("config");
        if (cfg != metadata.end()) {
            auto json = nlohmann::json::parse(cfg->second, nullptr, false);
            if (!json.is_discarded() && json.is_object() && json.contains("backbone"))
                json = json["backbone"];
            if (!json.is_discarded() && json.is_object())
                for (const char* k : {"pos_interp", "pad_to_patch", "act"})
                    if (json.contains(k))
                        out.config[k] = json[k];
        }
    }

    // Every expected tensor present with its exact shape; nothing else.
    const auto expected = expectedShapes(out.config);
    for (const auto& [name, shape] : expected) {
        const auto it = out.tensors.find(name);
        if (it == out.tensors.end())
            throw ModelError(sourceName, "missing tensor '" + name + "' (canonical name) for the " + scheme->name +
                                             " naming scheme");
        if (it->second.sizes().vec() != shape)
            throw ModelError(sourceName, "tensor '" + name + "' (canonical name) has shape " +
                                             shapeText(it->second.sizes().vec()) + ", expected " + shapeText(shape));
    }
    for (const auto& [name, t] : out.tensors)
        if (!expected.count(name))
            throw ModelError(sourceName, "unexpected tensor '" + name + "' (canonical name) for a " + family +
                                             " backbone of this shape");
    return out;
}

ImportedBackbone BackboneImporter::importFile(const std::string& path, const Options& options)
{
    std::map<std::string, std::string> metadata;
    const auto tensors = readWeights(path, &metadata);
    return convert(tensors, metadata, options, path);
}

void BackboneImporter::write(const std::string& path, const ImportedBackbone& backbone)
{
    // Through the engine's own backbone, which checks config and tensors once more.
    const VisionTransformer vit(BackboneConfig::fromJson(backbone.config, path, "backbone."), backbone.tensors, path);
    EiModelFile::writeBackbone(path, vit);
}

}  // namespace ei
