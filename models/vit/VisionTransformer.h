// The frozen Vision Foundation Model backbone (MODEL.md section 1, VFM_WEIGHTS.md): one
// ViT for DINOv2 (LayerScale, erf GELU, eps 1e-6, patch bias, registers) and CLIP
// (QuickGELU, eps 1e-5, norm_pre, no patch bias), any width / depth / heads. Its weights
// are plain tensors under the canonical names (no "backbone." prefix); a MoR set is
// passed per call, so every pass of the EI model shares this one copy.
#pragma once

#include "models/ei/ModelConfig.h"
#include "models/vit/MoRSet.h"

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace ei {

struct BackboneOutput {
    torch::Tensor tokens;       // [B, 1 + R + N + E, d] after the final norm: CLS, registers, patches, extra
    torch::Tensor acquiredCls;  // [B, d]: CLS of the requested acquire layer (undefined when not asked)
    int gridH = 0;              // patch grid of the padded input
    int gridW = 0;
};

struct BackboneCall {
    const MoRSet* mor = nullptr;  // nullptr: the plain backbone
    torch::Tensor extraTokens;    // [B, E, d] (INT); undefined: none
    int insertLayer = 0;          // extra tokens join before block insertLayer + 1
    int acquireLayer = 0;         // 0: none; 1..depth-1: raw CLS after that block; depth: final normed CLS
};

class VisionTransformer {
public:
    // Tensors by canonical name; throws ei::ModelError naming the first missing,
    // mis-shaped or unexpected tensor (`source` names the file).
    VisionTransformer(BackboneConfig config, std::map<std::string, torch::Tensor> weights, const std::string& source);

    // Canonical names and shapes for a config.
    static std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensorShapes(const BackboneConfig& config);
    // Random weights (global torch RNG), for tests and `init` without --backbone.
    static std::map<std::string, torch::Tensor> randomWeights(const BackboneConfig& config);

    const BackboneConfig& config() const { return config_; }
    const std::map<std::string, torch::Tensor>& weights() const { return weights_; }
    std::int64_t parameterCount() const;
    void to(const torch::Device& device);
    torch::Device device() const;

    // images [B, 3, H, W], already normalised. Pads right / bottom to a multiple of the
    // patch size (or refuses a non-multiple with ei::BadInputError when pad_to_patch is off).
    BackboneOutput forward(const torch::Tensor& images, const BackboneCall& call = {}) const;

    // The position table for a gh x gw grid: [1, 1 + gh*gw, d] (MODEL.md section 1).
    torch::Tensor positionEmbedding(int gridH, int gridW) const;
    // The interpolation itself, on a [1, 1 + G0*G1, d] table; mode "offset", "size" or
    // "size_antialias". At the base grid the table is returned unchanged.
    static torch::Tensor interpolatePositions(const torch::Tensor& pos, int baseH, int baseW, int gridH, int gridW,
                                              const std::string& mode);

    int prefixTokens() const { return 1 + config_.numRegisterTokens; }

private:
    struct Block {
        torch::Tensor norm1W, norm1B, qkvW, qkvB, projW, projB, ls1, norm2W, norm2B, fc1W, fc1B, fc2W, fc2B, ls2;
    };
    void bindBlocks();
    torch::Tensor runBlock(int index, const torch::Tensor& x, const MoRSet* mor) const;
    torch::Tensor activation(const torch::Tensor& x) const;

    BackboneConfig config_;
    std::map<std::string, torch::Tensor> weights_;
    std::vector<Block> blocks_;
};

}  // namespace ei
