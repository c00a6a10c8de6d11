// Tiny backbones and EI configs for the engine tests (d = 32..48, depth 2..3), so that a
// forward pass takes milliseconds.
#pragma once

#include "models/ei/EiModel.h"
#include "models/ei/ModelConfig.h"
#include "models/vit/VisionTransformer.h"

#include <nlohmann/json.hpp>

#include <memory>

namespace ei::test {

inline nlohmann::json smallBackboneJson(const std::string& family = "dinov2", int registers = 0)
{
    if (family == "clip")
        return {{"family", "clip"}, {"patch_size", 16}, {"embed_dim", 48}, {"depth", 2}, {"num_heads", 3},
                {"pos_grid", {4, 4}}};
    return {{"family", "dinov2"}, {"patch_size", 14}, {"embed_dim", 32}, {"depth", 3}, {"num_heads", 2},
            {"num_register_tokens", registers}, {"pos_grid", {4, 4}}};
}

inline nlohmann::json smallConfigJson(const std::string& fusion = "ei", bool volume = false)
{
    nlohmann::json mods = {{{"name", "CFP"}, {"kind", "image"}, {"size", {56, 42}}}};
    if (fusion != "unimodal")
        mods.push_back(volume ? nlohmann::json{{"name", "MRI"}, {"kind", "volume"}, {"size", {42, 42}}, {"slices", 3}}
                              : nlohmann::json{{"name", "OCT"}, {"kind", "image"}, {"size", {42, 56}}});
    return {{"backbone", smallBackboneJson()},
            {"modalities", mods},
            {"classes", {"a", "b", "c"}},
            {"fusion", fusion},
            {"adapter", {{"hidden", 16}}}};
}

inline std::shared_ptr<EiModel> smallModel(const nlohmann::json& config, unsigned seed = 3, bool randomAdapters = true)
{
    const ModelConfig c = ModelConfig::fromJson(config, "test config");
    torch::manual_seed(seed);
    auto backbone = std::make_shared<VisionTransformer>(c.backbone, VisionTransformer::randomWeights(c.backbone), "test");
    return std::make_shared<EiModel>(c, backbone, EiModel::initialParameters(c, randomAdapters), "test");
}

// Random inputs of the configured sizes: images [1,3,H,W], volumes [1,S,3,H,W].
inline std::vector<torch::Tensor> smallInputs(const ModelConfig& c, unsigned seed = 5)
{
    torch::manual_seed(seed);
    std::vector<torch::Tensor> xs;
    for (const auto& m : c.modalities)
        xs.push_back(m.isVolume() ? torch::randn({1, m.slices, 3, m.size[0], m.size[1]})
                                  : torch::randn({1, 3, m.size[0], m.size[1]}));
    return xs;
}

// The map of one kind among a modality's maps (nullptr when absent).
inline const EiMap* findMap(const std::vector<EiMap>& maps, const std::string& kind)
{
    for (const auto& m : maps)
        if (m.kind == kind)
            return &m;
    return nullptr;
}

}  // namespace ei::test
