// Runs the EI model on a study: the one engine behind the GUI's Run (through
// core/inference/InferenceJob on a worker thread) and `eiview-cli infer`. Loads the model once
// and keeps it (with its one shared frozen backbone) for repeated runs. No LibTorch in
// this header (pimpl), so ui/ may include it.
#pragma once

#include "core/io/Image.h"
#include "core/inference/InferenceResult.h"
#include "models/JobControl.h"
#include "models/io/NpyFile.h"

#include <memory>
#include <string>
#include <vector>

namespace ei {

// What the UI needs to know about a model before running it.
struct ModelSummary {
    struct Modality {
        std::string name;
        std::string kind;  // "image" or "volume"
        int height = 0;
        int width = 0;
        int slices = 1;
    };
    std::string path;
    std::string family;    // "dinov2" / "clip"
    std::string fusion;    // "ei" / "late" / "unimodal"
    bool multilabel = false;
    int patchSize = 14;
    std::vector<Modality> modalities;
    std::vector<std::string> classes;
    std::string intendedUse;  // the model file's intended_use text ("" if none)
    std::string fingerprint;  // SHA-256 of the model file
    long long totalParameters = 0;
    long long trainableParameters = 0;
    std::string precision;    // what the passes run in on the chosen device: "fp32", "bf16", ...
    std::vector<double> temperatures;  // stored calibration (empty: uncalibrated)
    std::string calibrationSplit;
    int calibrationStudies = 0;
};

class InferenceRunner {
public:
    // device: "auto" (CUDA if LibTorch has it, else CPU), "cpu", "cuda", "cuda:k".
    // precision: "auto", "fp32", "tf32", "bf16", "fp16" (models/Precision.h).
    // Throws ei::ModelError for an unreadable or inconsistent model, ei::UsageError for a
    // precision the device cannot run. On a GPU the model is warmed up here, so that the
    // first study is not the slow one.
    InferenceRunner(const std::string& modelPath, const std::string& device = "auto",
                    const std::string& precision = "auto");
    ~InferenceRunner();
    InferenceRunner(const InferenceRunner&) = delete;
    InferenceRunner& operator=(const InferenceRunner&) = delete;

    const ModelSummary& summary() const;
    std::string device() const;  // the resolved device, e.g. "cpu"

    // inputs: images by model modality name. A modality left out is missing: the model
    // runs without it (EiModel::forward) and the result marks it; all left out is
    // ei::BadInputError. Preprocessing follows core/study/Preprocess.
    // Cancellation throws ei::Cancelled.
    InferenceResult run(const std::map<std::string, Image>& inputs, bool computeMaps = true,
                        const JobControl& control = {});

    // Already preprocessed inputs (`eiview-cli infer --input-tensor`): float32
    // [1, 3, H, W] per image, [S, 3, H, W] per volume with exactly the model's S slices;
    // any H x W (padded inside the model). A wrong shape is ei::BadInputError naming
    // the modality; a modality left out is missing, as in run().
    InferenceResult runTensors(const std::map<std::string, NpyArray>& tensors, bool computeMaps = true,
                               const JobControl& control = {});

    // Pixel attributions (models/ei/Attribution.h) of the fused probability of class
    // `targetIndex` for these inputs (missing modalities as in run()). baseline "black" or
    // "blur"; ei::UsageError for an unknown class, baseline or steps < 1. Progress per
    // forward; cancellation throws ei::Cancelled.
    struct AttributionRequest {
        int targetIndex = 0;
        int steps = 32;
        std::string baseline = "black";
    };
    AttributionResult attribute(const std::map<std::string, Image>& inputs, const AttributionRequest& request,
                                const JobControl& control = {});
    AttributionResult attributeTensors(const std::map<std::string, NpyArray>& tensors, const AttributionRequest& request,
                                       const JobControl& control = {});

private:
    struct Private;
    std::unique_ptr<Private> d;
};

}  // namespace ei
