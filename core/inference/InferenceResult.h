// What one inference produced, as plain data (no LibTorch): the UI, the CLI's JSON and
// the export all read this. Filled by core/inference/InferenceRunner from models/ outputs.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
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

// Pixel attributions of one study (InferenceRunner::attribute): Integrated Gradients of
// the fused probability of `target` (as the model computes it, before calibration) per
// present modality, each a SimilarityMap of kind "ig" on the model input's pixel grid
// (patch 1: one cell per input pixel, [slices][H][W], summed over colour channels; the
// values are signed score units, not [-1, 1]).
struct AttributionResult {
    std::string method = "ig";
    std::string target;      // class name
    int targetIndex = 0;
    int steps = 0;
    std::string baseline;    // "black" or "blur"
    double scoreInput = 0;   // F(study)
    double scoreBaseline = 0;  // F(baseline)
    double total = 0;        // sum of every attribution
    double gap = 0;          // total - (scoreInput - scoreBaseline): the completeness check
    std::map<std::string, SimilarityMap> maps;  // by modality name (present modalities)

    // Whether the completeness check holds: |gap| within 5 % of the score change (at least
    // of 0.02). A saturated model can swing along the path, and a Riemann sum with too few
    // steps then misses it (the bundled demo from a black baseline needs about 256).
    bool converged() const
    {
        const double change = scoreInput - scoreBaseline;
        return std::abs(gap) <= 0.05 * std::max(std::abs(change), 0.02);
    }
};

struct ModalityResult {
    std::string name;               // the model's modality slot name, e.g. "CFP"
    bool missing = false;           // no input: the study ran without it; everything below empty
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
    std::vector<float> fusedProbs;           // calibrated when the model is (see temperatures)
    std::vector<float> fusedProbsUncalibrated;  // softmax / sigmoid of fusedLogits as they are
    // The model's temperature scaling (models/train/Calibration.h) applied to fusedProbs;
    // empty: the model is uncalibrated and fusedProbs == fusedProbsUncalibrated.
    std::vector<double> temperatures;
    std::string calibrationSplit;            // what it was fitted on, e.g. "val"
    int calibrationStudies = 0;
    std::vector<float> gate;                 // one weight per modality, sums to 1; 0 for a missing one
    std::map<std::string, double> timingsMs; // "preprocess", "forward", "maps", "total", ...
    // Set when pixel attributions were computed for this result (their maps are then also
    // in each modality's maps as kind "ig").
    std::shared_ptr<const AttributionResult> attribution;

    bool calibrated() const { return !temperatures.empty(); }

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

    // The model's modalities the study ran without, in config order.
    std::vector<std::string> missing() const
    {
        std::vector<std::string> out;
        for (const auto& m : modalities)
            if (m.missing)
                out.push_back(m.name);
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

// The result with these attributions: each modality's "ig" map replaced by the new one
// (or removed, for nullptr) and `attribution` set.
InferenceResult withAttribution(InferenceResult result, std::shared_ptr<const AttributionResult> attribution);

}  // namespace ei
