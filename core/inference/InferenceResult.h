// What one inference produced, as plain data (no LibTorch): the UI, the CLI's JSON and
// the export all read this. Filled by core/inference/InferenceRunner from models/ outputs.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ei {

// One similarity map (MODEL.md section 4): values in [-1, 1], [slices][gridH][gridW].
// The model saw the image resized to inputHeight x inputWidth and zero-padded on the
// right/bottom to gridH*patch x gridW*patch; validRows/validCols are the grid cells
// that cover real image content (partially or fully), i.e. ceil(inputHeight / patch).
// Map cell (r, c) covers input pixels [r*patch, (r+1)*patch) x [c*patch, (c+1)*patch),
// which map back to the original image by the scale originalSize / inputSize.
struct SimilarityMap {
    std::string kind;  // "cls", "cls_noint", "int_<reference name>", "delta"
    int slices = 1;
    int gridH = 0;
    int gridW = 0;
    int patch = 14;
    int inputHeight = 0;
    int inputWidth = 0;
    std::vector<float> values;
    float at(int s, int r, int c) const { return values[(static_cast<std::size_t>(s) * gridH + r) * gridW + c]; }
};

struct ModalityResult {
    std::string name;               // the model's modality slot name, e.g. "CFP"
    std::vector<float> logits;      // primary head, C values
    std::vector<float> probs;       // softmax (single-label) or sigmoid (multi-label)
    std::vector<float> auxLogits;   // auxiliary head (empty for late / unimodal)
    std::vector<float> auxProbs;
    std::vector<int> sliceIndices;  // for volumes: the slices of the source that the model saw
    std::vector<SimilarityMap> maps;
};

struct InferenceResult {
    std::string modelPath;
    std::string modelFingerprint;  // SHA-256 of the model file
    std::string device;            // "cpu", "cuda:0"
    std::string precision;         // "fp32", "tf32", "bf16", "fp16" (resolved)
    std::string fusion;            // "ei", "late", "unimodal"
    bool multilabel = false;
    std::vector<std::string> classes;
    std::vector<ModalityResult> modalities;  // in model config order
    std::vector<float> fusedLogits;
    std::vector<float> fusedProbs;
    std::vector<float> gate;                 // one weight per modality, sums to 1
    std::map<std::string, double> timingsMs; // "preprocess", "forward", "maps", "total", ...

    // Single-label: the fused class with the highest probability (the first of ties); -1
    // without probabilities.
    int topClass() const
    {
        int best = fusedProbs.empty() ? -1 : 0;
        for (std::size_t i = 1; i < fusedProbs.size(); ++i)
            if (fusedProbs[i] > fusedProbs[best])
                best = static_cast<int>(i);
        return best;
    }
    // Multi-label: the classes whose fused probability is at least 0.5, in class order.
    std::vector<int> positiveClasses() const
    {
        std::vector<int> out;
        for (std::size_t i = 0; i < fusedProbs.size() && i < classes.size(); ++i)
            if (fusedProbs[i] >= 0.5f)
                out.push_back(static_cast<int>(i));
        return out;
    }

    const ModalityResult* modality(const std::string& name) const
    {
        for (const auto& m : modalities)
            if (m.name == name)
                return &m;
        return nullptr;
    }
};

}  // namespace ei
