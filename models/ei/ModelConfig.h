// The model configuration of MODEL.md section 7: what a .eimodel's `config` metadata and
// `eiview-cli init --config` hold. Every key has the documented default except
// `modalities` and `classes`; an unknown key or an inconsistency is ei::BadInputError
// naming the key (exit 3), so a typo never silently falls back to a default.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <string>
#include <vector>

namespace ei {

struct BackboneConfig {
    std::string family = "dinov2";  // "dinov2" or "clip"
    int patchSize = 14;
    int embedDim = 768;
    int depth = 12;
    int numHeads = 12;
    double mlpRatio = 4.0;
    int numRegisterTokens = 0;
    std::array<int, 2> posGrid{37, 37};
    double normEps = 1e-6;
    bool layerScale = true;
    std::string act = "gelu";  // "gelu" (erf) or "quick_gelu"
    bool preNorm = false;      // CLIP's ln_pre (tensor name norm_pre)
    bool patchBias = true;
    std::string posInterp = "auto";  // "auto", "offset", "size", "size_antialias"
    bool padToPatch = true;

    int mlpHidden() const;
    // "auto" resolved per MODEL.md section 1: "offset", "size" or "size_antialias".
    std::string resolvedPosInterp() const;

    // `source` names the file in error messages; `prefix` the JSON path ("backbone.").
    static BackboneConfig fromJson(const nlohmann::json& j, const std::string& source,
                                   const std::string& prefix = "backbone.");
    nlohmann::json toJson() const;
    void validate(const std::string& source, const std::string& prefix = "backbone.") const;
};

struct ModalityConfig {
    std::string name;
    std::string kind = "image";  // "image" or "volume"
    std::array<int, 2> size{448, 448};  // height, width
    int slices = 1;                     // volumes: S (default 4)

    bool isVolume() const { return kind == "volume"; }
};

struct MorConfig {
    std::vector<int> ranks{2, 4, 8};
    std::vector<double> alphas{4, 8, 16};
    std::vector<std::string> targets{"fc1", "fc2"};
    bool bypass = true;

    int rankSum() const;
    int routerOutputs() const { return static_cast<int>(ranks.size()) + (bypass ? 1 : 0); }
    bool hasTarget(const std::string& t) const;
};

struct ModelConfig {
    BackboneConfig backbone;
    std::vector<ModalityConfig> modalities;
    std::vector<std::string> classes;
    bool multilabel = false;
    std::string fusion = "ei";  // "ei", "late", "unimodal"
    MorConfig mor;
    int acquireLayer = -1;  // -1 in JSON absent: resolved to backbone.depth
    int insertLayer = 0;
    bool adapterPerPair = true;
    int adapterHidden = 384;
    bool adapterNorm = true;
    std::string slicePoolAux = "max";
    std::string slicePoolPrimary = "mean";
    std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
    std::array<float, 3> std{0.229f, 0.224f, 0.225f};

    int numModalities() const { return static_cast<int>(modalities.size()); }
    int numClasses() const { return static_cast<int>(classes.size()); }
    int modalityIndex(const std::string& name) const;  // -1 when absent

    static ModelConfig fromJson(const nlohmann::json& j, const std::string& source);
    static ModelConfig fromJsonText(const std::string& text, const std::string& source);
    // For a given backbone file (`init --backbone`): the backbone object starts from
    // that file's config and the user's keys overlay it; a user key that contradicts the
    // file's architecture (family, sizes, registers, grid, layer types) is
    // ei::BadInputError naming it. Run-time keys (pos_interp, pad_to_patch, norm_eps)
    // may differ.
    static ModelConfig fromJsonWithBackbone(const nlohmann::json& j, const std::string& source,
                                            const BackboneConfig& given);
    static ModelConfig fromFile(const std::string& path);
    nlohmann::json toJson() const;
    std::string toJsonText(int indent = -1) const;
    // Throws BadInputError naming the offending key.
    void validate(const std::string& source) const;
};

}  // namespace ei
