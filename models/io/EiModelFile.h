// The .eimodel file (MODEL.md section 7) and the standalone backbone file (section 9.8):
// safetensors with string metadata. The backbone is embedded (prefix "backbone.") or
// referenced by backbone_file (relative to the model file) + backbone_sha256. F32 is
// written; F16 / BF16 are accepted on read. Problems with a model or its weights are
// ei::ModelError naming the file and the tensor (exit 4).
#pragma once

#include "models/ei/EiModel.h"
#include "models/ei/ModelConfig.h"
#include "models/vit/VisionTransformer.h"

#include <map>
#include <memory>
#include <string>

namespace ei {

struct LoadedEiModel {
    std::shared_ptr<EiModel> model;
    std::map<std::string, std::string> metadata;  // the file's __metadata__
    std::string backbonePath;                     // resolved path of a referenced backbone ("" = embedded)
    bool integrityChecked = false;                // the file carries tensors_sha256 and it matched
};

struct EiModelWriteOptions {
    std::string backbonePath;  // non-empty: reference this file (relative path + SHA-256) instead of embedding
    std::string trainingJson;  // optional `training` metadata
    std::string intendedUse;   // optional `intended_use` metadata
    std::string calibrationJson;  // optional `calibration` metadata (models/train/Calibration.h)
};

class EiModelFile {
public:
    static LoadedEiModel read(const std::string& path);
    // Only the metadata and config (no tensors read; referenced backbone not opened).
    static std::map<std::string, std::string> readMetadata(const std::string& path);
    static ModelConfig configOf(const std::map<std::string, std::string>& metadata, const std::string& path);
    static void write(const std::string& path, const EiModel& model, const EiModelWriteOptions& options = {});

    // Standalone backbone: canonical names without prefix + `config` metadata (the
    // backbone object). mask_token and the CLIP projection head.* are ignored on read.
    // verifyTensors: check tensors_sha256; false where the caller has just checked the
    // whole file's SHA-256 (a model's referenced backbone), so it is not hashed twice.
    static std::shared_ptr<VisionTransformer> readBackbone(const std::string& path, bool verifyTensors = true);
    static BackboneConfig readBackboneConfig(const std::string& path);
    static void writeBackbone(const std::string& path, const VisionTransformer& backbone);
};

}  // namespace ei
