// Calibrated probabilities (issue 16): temperature scaling (Guo et al., ICML 2017) of the
// fused logits, fitted on a validation split by minimising the negative log-likelihood;
// one temperature for a single-label model, one per class for a multi-label one. Stored
// in the .eimodel as the optional `calibration` metadata key (docs/model.md); a model
// without it is uncalibrated and reads as before. Plain C++ (no LibTorch): the UI and the
// CLI apply it to InferenceResult numbers.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <vector>

namespace ei {

struct TemperatureScaling {
    std::vector<double> temperatures;  // 1 value (single-label) or one per class (multi-label)
    bool multilabel = false;
    std::string split = "val";         // what it was fitted on
    int fittedOn = 0;                  // studies
    // Temperatures left at 1 because the split lacked a positive or a negative (multi-label).
    std::vector<std::string> unfittedClasses;

    bool empty() const { return temperatures.empty(); }
    // Probabilities of one study's fused logits: softmax(z / T) or sigmoid(z_c / T_c).
    std::vector<double> probabilities(const std::vector<double>& logits) const;
    std::vector<std::vector<double>> probabilities(const std::vector<std::vector<double>>& logits) const;

    // {"method": "temperature", "temperatures": [...], "multilabel", "split", "n",
    //  "unfitted_classes"}; fromJson throws ei::ModelError naming `source` on a bad value.
    nlohmann::json toJson() const;
    static TemperatureScaling fromJson(const nlohmann::json& j, const std::string& source);
    // The `calibration` metadata text of a model file ("" = none) -> scaling (empty = none).
    static TemperatureScaling fromMetadata(const std::string& text, const std::string& source);
    // The same, checked against the model it sits in: a single-label model needs one
    // temperature, a multi-label one one per class; otherwise ei::ModelError naming `source`.
    static TemperatureScaling fromMetadata(const std::map<std::string, std::string>& metadata, std::size_t classes,
                                           bool multilabel, const std::string& source);
};

// Softmax (single-label) or sigmoid (multi-label) of logits, in double.
std::vector<double> probabilitiesOf(const std::vector<double>& logits, bool multilabel);

// Fits the temperatures on logits [N][C] and 0/1 targets [N][C]: the NLL is convex in
// 1/T, so a golden-section search over log(1/T) in [log(1/50), log(50)] finds its minimum.
// Throws ei::UsageError when N is 0 or the sizes differ.
TemperatureScaling fitTemperature(const std::vector<std::vector<double>>& logits,
                                  const std::vector<std::vector<int>>& targets, bool multilabel,
                                  const std::vector<std::string>& classes = {});

}  // namespace ei
