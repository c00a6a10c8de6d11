// Turns a checkpoint trained with the paper's own code (ruc-aimc-lab/EI; OFFICIAL_EI.md
// sections 3 and 8) into an .eimodel: its stage-2 EI checkpoint (first_backbones /
// second_backbones / projs_cls / route) or a stage-1 unimodal one (backbone + fc), plus
// the official JSON config that trained it. The 2M frozen backbone copies are checked to
// be bit-equal and stored once (or referenced by file + SHA-256); the gate is permuted
// when `modality_idx` is not ascending. Used by `eiview-cli import-ei`.
#pragma once

#include "models/import/BackboneImporter.h"
#include "models/JobControl.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ei {

struct OfficialEiModel {
    std::map<std::string, torch::Tensor> parameters;  // every non-backbone tensor, MODEL.md section 7 names
    ImportedBackbone backbone;                        // the frozen weights, canonical, no prefix
    nlohmann::json config;                            // the .eimodel `config` (MODEL.md section 7)
    nlohmann::json training;                          // provenance: official settings kept for reference
};

class OfficialEiImporter {
public:
    struct Options {
        std::string configPath;                                          // the official JSON config
        std::string checkpointPath;                                      // best_model.pkl / .pth
        std::vector<std::pair<std::string, std::string>> uniCheckpoints; // modality (name or index) -> stage-1 file
        std::string backbonePath;  // empty: embed the backbone; else reference this canonical file
        int heads = 0;             // for widths outside the ViT size table
        // The official repository's files when they are not where the config says
        // (paths in a config are relative to the repository root: the folder above
        // configs_mul/ or configs_uni/): a stage-1 config per modality (name or index),
        // and the class mapping ({name: index}).
        std::vector<std::pair<std::string, std::string>> stage1Configs;
        std::string classesPath;
    };

    // The official files nest the settings under training_params (net, modality_idx,
    // loss_func, sampling_num, ...), keep the MoR settings of an EI run in the stage-1
    // configs named by training_params.model_params.pretrained_configs, and the class
    // names in the file named by paths.mapping_path. Returns the flat form convert()
    // reads (a config already flat is returned unchanged). BadInputError naming the file
    // and key for what is missing or contradicts itself.
    static nlohmann::json flattenOfficialConfig(const nlohmann::json& config, const std::string& configPath,
                                                const Options& options);

    // Reads, converts and checks; throws ei::BadInputError for a config problem (naming
    // the key) and ei::ModelError for a checkpoint problem (naming the tensor).
    static OfficialEiModel convert(const Options& options, const JobControl* control = nullptr);

    // The same on data already in memory (configSource / checkpointSource name them).
    static OfficialEiModel convert(const nlohmann::json& officialConfig, const std::string& configSource,
                                   const std::map<std::string, torch::Tensor>& checkpoint,
                                   const std::string& checkpointSource, int heads = 0);

    // convert() and write the .eimodel atomically to `outPath`.
    static OfficialEiModel importToFile(const Options& options, const std::string& outPath,
                                        const JobControl* control = nullptr);
};

}  // namespace ei
