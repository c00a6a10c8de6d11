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
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace ei {

struct BackboneOutput {
    torch::Tensor tokens;       // [B, 1 + R + N + E, d] float32, after the final norm: CLS, registers, patches, extra
    torch::Tensor acquiredCls;  // [B, d] float32: CLS of the requested acquire layer (undefined when not asked)
    int gridH = 0;              // patch grid of the padded input
    int gridW = 0;
};

// Consecutive rows of a batch that share one MoR set (several modalities in one pass).
struct MoRRows {
    const MoRSet* set = nullptr;
    std::int64_t rows = 0;
};

struct BackboneCall {
    const MoRSet* mor = nullptr;     // one set for every row; nullptr (and no groups): the plain backbone
    std::vector<MoRRows> morGroups;  // instead of `mor`: row groups in batch order, rows summing to B
    torch::Tensor extraTokens;       // [B, E, d] (INT); undefined: none
    int insertLayer = 0;             // extra tokens join before block insertLayer + 1
    int acquireLayer = 0;            // 0: none; 1..depth-1: raw CLS after that block; depth: final normed CLS
    // The arithmetic of the blocks (float32, bfloat16 or float16; models/Precision.h). The
    // final norm and both outputs are float32 whatever it is.
    torch::ScalarType computeType = torch::kFloat;
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
    // Every tensor a pass reads, in one compute type. Float32 binds the originals (views
    // of them); other types are converted on first use and kept until a weight changes.
    struct Weights {
        std::vector<Block> blocks;
        torch::Tensor patchW;  // [d, 3 * p * p]: the patch convolution as one matrix product
        torch::Tensor patchB, cls, reg, normPreW, normPreB;
    };
    std::shared_ptr<const Weights> bindWeights(torch::ScalarType type) const;
    // `stamp`: tensorSetStamp(weights_) now; a cached entry made under another is remade,
    // so weights changed in place (train_backbone) are seen.
    std::shared_ptr<const Weights> weightsFor(torch::ScalarType type, std::size_t stamp) const;
    torch::Tensor positionsFor(int gridH, int gridW, torch::ScalarType type, std::size_t stamp) const;
    torch::Tensor runBlock(const Block& b, int index, const torch::Tensor& x, const std::vector<MoRRows>& mor) const;
    torch::Tensor attention(const torch::Tensor& qkv) const;
    torch::Tensor activation(const torch::Tensor& x) const;

    BackboneConfig config_;
    std::map<std::string, torch::Tensor> weights_;
    std::shared_ptr<const Weights> float32_;
    template <typename T>
    struct Cached {
        T value;
        std::size_t stamp = 0;
    };
    mutable std::mutex cacheMutex_;
    mutable std::map<torch::ScalarType, Cached<std::shared_ptr<const Weights>>> converted_;
    mutable std::map<std::tuple<int, int, int>, Cached<torch::Tensor>> positions_;  // (gh, gw, type)
};

}  // namespace ei
