// The export of one inference (Ctrl+E): a JSON report (model, fingerprint, device,
// predictions, gate weights, timings, inputs) and the PNG of the viewports that the UI
// renders. Patient identifiers go into the JSON only when the user asks for them; file
// paths are reduced to file names otherwise (a path can hold a patient's name).
#pragma once

#include "core/io/Image.h"
#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/view/Measurement.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ei {

class ExportReport {
public:
    struct Input {
        std::string slot;
        std::string sourcePath;
        const Image* image = nullptr;  // for tags and (when asked) the patient identity
    };

    ExportReport(const InferenceResult& result, const ModelSummary& model);
    void addInput(const Input& input) { inputs_.push_back(input); }
    // A measurement on one of the inputs, as "measurements" in the JSON (kind, slot,
    // slice, points in image pixels, the values with their unit, the text line).
    void addMeasurement(const Measurement& m, const Image& image, const SimilarityMap* map, int mapSlice);

    std::string toJson(bool includePatientIdentifiers) const;
    // Both write through a temporary file (never a half-written output); ei::Error on failure.
    void writeJson(const std::string& path, bool includePatientIdentifiers) const;
    static void writePng(const std::string& path, const std::string& pngBytes);
    static void writePdf(const std::string& path, const std::string& pdfBytes);

private:
    const InferenceResult& result_;
    const ModelSummary& model_;
    std::vector<Input> inputs_;
    nlohmann::json measurements_ = nlohmann::json::array();
};

}  // namespace ei
