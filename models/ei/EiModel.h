// The EI network (MODEL.md sections 2-4): per modality an auxiliary and a primary MoR
// set over ONE shared frozen backbone, INT adapters, heads and the gate; fusion modes
// ei / late / unimodal; volumes by slice pooling; patch similarity maps. Tensor names
// are exactly those of MODEL.md section 7 (without the "backbone." prefix, which
// belongs to the backbone). The forward pass is differentiable (training uses it);
// inference wraps it in torch::InferenceMode.
#pragma once

#include "models/JobControl.h"
#include "models/Precision.h"
#include "models/ei/ModelConfig.h"
#include "models/vit/MoRSet.h"
#include "models/vit/VisionTransformer.h"

#include <torch/torch.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ei {

struct EiMap {
    std::string kind;      // "cls", "cls_noint", "int_<reference>", "delta"
    torch::Tensor values;  // [B, S, gridH, gridW], S = 1 for images
};

// Per modality vectors hold one entry per model modality in config order; a missing
// modality's entries are undefined tensors (and its maps empty, its gate weight 0).
struct EiOutputs {
    std::vector<bool> present;             // per modality: was an input given
    std::vector<torch::Tensor> logits;     // per modality [B, C] (primary / uni head)
    std::vector<torch::Tensor> probs;
    std::vector<torch::Tensor> auxLogits;  // per modality [B, C]; empty unless fusion ei
    std::vector<torch::Tensor> auxProbs;
    std::vector<torch::Tensor> primaryCls; // per modality [B, d] (after slice pooling)
    torch::Tensor fused;                   // [B, C]
    torch::Tensor fusedProbs;
    torch::Tensor gate;                    // [B, M]
    std::vector<std::vector<EiMap>> maps;  // per modality, when asked
    std::vector<std::array<int, 2>> grids; // per modality patch grid (padded input)
};

// The gate over the primary CLS tokens: softmax(W concat(cls) + b) over the present
// modalities. A missing modality (undefined cls) enters the product as zeros and gets
// weight 0; the others are renormalised among themselves (MODEL.md section 3 with the
// missing-modality rule of docs/model.md).
torch::Tensor gateWeights(const std::vector<torch::Tensor>& primaryCls, const torch::Tensor& weight,
                          const torch::Tensor& bias);

class EiModel {
public:
    // params: every non-backbone tensor by its section-7 name. Throws ei::ModelError
    // naming a missing, mis-shaped or unexpected tensor (`source` names the file).
    EiModel(ModelConfig config, std::shared_ptr<VisionTransformer> backbone,
            std::map<std::string, torch::Tensor> params, const std::string& source);

    // Names and shapes of the non-backbone tensors for a config.
    static std::vector<std::pair<std::string, std::vector<std::int64_t>>> tensorShapes(const ModelConfig& config);
    // Fresh parameters as the official code initialises them (global torch RNG).
    // randomAdapters: MoR B matrices and adapter norms random too, so that every term
    // of the forward pass is at work (`init --random-adapters`).
    static std::map<std::string, torch::Tensor> initialParameters(const ModelConfig& config, bool randomAdapters);

    const ModelConfig& config() const { return config_; }
    const VisionTransformer& backbone() const { return *backbone_; }
    std::shared_ptr<VisionTransformer> sharedBackbone() const { return backbone_; }
    std::map<std::string, torch::Tensor>& parameters() { return params_; }
    const std::map<std::string, torch::Tensor>& parameters() const { return params_; }
    std::int64_t trainableParameterCount() const;
    std::int64_t totalParameterCount() const;
    void to(const torch::Device& device);
    torch::Device device() const { return backbone_->device(); }
    // The arithmetic of the backbone and MoR passes (models/Precision.h), resolved for the
    // model's device now and after every to(); fp16 on the CPU is ei::UsageError.
    void setPrecision(Precision requested);
    Precision precision() const { return precision_; }  // resolved: never Auto

    // One forward on zeros at the configured sizes (batch 1, maps on), so that the first
    // study does not pay for CUDA's lazy initialisation, kernel loading and the
    // converted weights.
    void warmUp() const;

    // inputs: per modality in config order, normalised; images [B, 3, H, W], volumes
    // [B, S, 3, H, W] with S = the modality's slices. Bad shapes: ei::BadInputError
    // naming the modality. control (optional) gets progress and may cancel.
    // An undefined tensor is a missing modality: the present ones run without its INT
    // token, the gate is renormalised over them and the fused prediction mixes only
    // theirs. Every modality missing is ei::BadInputError.
    EiOutputs forward(const std::vector<torch::Tensor>& inputs, bool computeMaps = false,
                      const JobControl* control = nullptr) const;

    // Cosine similarity of each patch token with a reference token: tokens [B', T, d],
    // reference [B', d] -> [B', gh*gw] over the patch tokens only.
    torch::Tensor patchSimilarity(const torch::Tensor& tokens, const torch::Tensor& reference, int gridH,
                                  int gridW) const;

private:
    torch::Tensor adapter(int target, int reference, const torch::Tensor& x) const;
    torch::Tensor head(const std::string& role, int m, const torch::Tensor& x) const;
    torch::Tensor probabilities(const torch::Tensor& logits) const;
    const torch::Tensor& param(const std::string& name) const;

    ModelConfig config_;
    std::shared_ptr<VisionTransformer> backbone_;
    std::map<std::string, torch::Tensor> params_;
    Precision requested_ = Precision::Auto;
    Precision precision_ = Precision::Fp32;

    // MoR sets bound (and cast) once for inference: binding stacks and scales every
    // layer's matrices and a cast converts them, thousands of small kernels that a GPU
    // forward would otherwise pay each time. Rebound when any parameter changed (its
    // version counter or storage), so validation between training steps sees the update.
    // `stamp`: parameterStamp() now, taken once per forward.
    std::vector<MoRSet> boundSets(const std::string& role, torch::ScalarType type, std::size_t stamp) const;
    // Sets of one backbone call (by role and modality, in row-group order) stacked into
    // one (MoRSet::stack), cached like the sets.
    struct StackPart {
        std::string role;
        int modality = 0;
        const MoRSet* set = nullptr;
    };
    MoRSet stackedSet(torch::ScalarType type, std::size_t stamp, const std::vector<StackPart>& parts) const;

public:
    // Changes when any parameter tensor is replaced or modified in place.
    std::size_t parameterStamp() const;

private:
    struct Bound {
        std::vector<MoRSet> sets;
        std::size_t stamp = 0;
    };
    struct Stacked {
        MoRSet set;
        std::size_t stamp = 0;
    };
    mutable std::mutex boundMutex_;
    mutable std::map<std::pair<std::string, int>, Bound> bound_;                                    // (role, type)
    mutable std::map<std::pair<int, std::vector<std::pair<std::string, int>>>, Stacked> stacks_;  // (type, parts)
};

}  // namespace ei
