// The training configuration (`eiview-cli train --config TRAIN.json`, the wizard's
// settings page): the model to build (MODEL.md section 7 config) and the recipe of
// MODEL.md section 5 with the official code's defaults (OFFICIAL_EI.md section 4).
// Unknown keys are ei::BadInputError naming the key, like the model config.
//
//   {"model": {...model config...},           // "classes" may be left out: taken from the manifest
//    "modality": "CFP",                        // fusion "unimodal" only: which column trains
//    "seed": 0, "batch_size": 8, "max_epochs": 200, "stage1_max_epochs": 200, "patience": 10,
//    "device": "cpu", "precision": "auto", "threads": 0, "intended_use": "...",
//    "modality_dropout": 0.0, "calibrate": true,
//    "optimizer": {"kind": "sgd", "base_lr": 1e-5, "max_lr": 1e-3, "momentum": 0.95, "weight_decay": 1e-4,
//                  "cycle_momentum": false, "beta2": 0.999, "eps": 1e-8},
//    "schedule": {"kind": "cyclic", "half_cycle_epochs": 4, "gamma": 0.8,
//                 "warmup_epochs": 1, "cosine_epochs": 50, "final_lr": 1e-7},
//    "loss": {"lambda1": 0.3, "lambda2": 0.1, "prior_gaps": [], "gate_prior": "gaps"},
//    "augment": {"rotation": true, "edge_crop": true, "flip": true, "color_jitter": true,
//                "slice_jitter": true}}
#pragma once

#include "models/ei/ModelConfig.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace ei {

struct AugmentConfig {
    bool rotation = true;     // integer angle uniform in [-180, 179]
    bool edgeCrop = true;     // p 0.5: up to 10% off each side
    bool flip = true;         // p 0.5 horizontal
    bool colorJitter = true;  // contrast, brightness, saturation x U(0.7, 1.3)
    bool sliceJitter = true;  // volumes: slice centres +- half a step
};

struct TrainConfig {
    nlohmann::json model;       // model config JSON (validated when the classes are known)
    std::string modality;       // unimodal: the trained modality ("" = the first)
    unsigned seed = 0;
    int batchSize = 8;
    int maxEpochs = 200;        // per stage
    int stage1MaxEpochs = -1;   // -1: maxEpochs
    int patience = 10;          // validations without a strictly better val mAP
    std::string device = "cpu";
    std::string precision = "auto";  // models/Precision.h; auto: bf16 on a GPU, fp32 on the CPU
    int threads = 0;            // CPU thread budget (models/Device.h policy); 0: EIVIEW_THREADS, else one per core
    // Unimodal only: the backbone's own weights train too and RUN_DIR/backbone.safetensors
    // is written. Not part of the EI recipe (its backbone is frozen): it is how the demo's
    // tiny backbone is pretrained on the synthetic findings (scripts/make-demo-model.sh).
    bool trainBackbone = false;
    std::string intendedUse = "Fine-tuned with EIView on a local data set; research use only, not for clinical use.";
    // Fusion stage: the chance that a training batch drops one modality (chosen uniformly),
    // so that the model learns to predict from the others (docs/training.md). 0: never.
    double modalityDropout = 0.0;
    // After training: fit temperature scaling on the validation split and store it in the
    // model (models/train/Calibration.h).
    bool calibrate = true;

    // "sgd": the official recipe (heavy-ball momentum, L2 weight decay in the gradient).
    // "adamw": Adam with decoupled weight decay (Loshchilov & Hutter); `momentum` is its
    // beta1, `beta2` / `eps` its other constants; the schedule sets its learning rate.
    std::string optimizer = "sgd";
    double baseLr = 1e-5, maxLr = 1e-3;
    double momentum = 0.95;
    double weightDecay = 1e-4;
    double beta2 = 0.999;
    double adamEps = 1e-8;
    bool cycleMomentum = false;  // PyTorch CyclicLR's default (0.8 <-> 0.9), as the official run

    std::string schedule = "cyclic";  // "cyclic" or "cosine"
    double halfCycleEpochs = 4;
    double gamma = 0.8;
    double warmupEpochs = 1;
    double cosineEpochs = 50;
    double finalLr = 1e-7;

    double lambda1 = 0.3, lambda2 = 0.1;
    std::vector<double> priorGaps;
    std::string gatePrior = "gaps";  // "gaps" or "best_modality"

    AugmentConfig augment;

    static TrainConfig fromJson(const nlohmann::json& j, const std::string& source);
    static TrainConfig fromFile(const std::string& path);
    nlohmann::json toJson() const;
};

// Learning rate and momentum at an iteration (0-based) of a stage with
// `itersPerEpoch` iterations per epoch: the official CyclicLR rule (triangular,
// amplitude x gamma per cycle, stepped every iteration) or cosine with linear warm-up.
struct ScheduleValue {
    double lr = 0;
    double momentum = 0;
};
ScheduleValue scheduleAt(const TrainConfig& config, long long iteration, int itersPerEpoch);

}  // namespace ei
