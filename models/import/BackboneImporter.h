// Converts a foreign vision-backbone checkpoint (official DINOv2, Hugging Face, timm,
// OpenAI / open_clip CLIP; safetensors or torch.save .pth) into EIView's canonical
// backbone: the tensor names of MODEL.md section 7 without the `backbone.` prefix, F32,
// plus the `backbone` config object inferred from the shapes (VFM_WEIGHTS.md section 4).
// Used by `eiview-cli import-backbone` and, for the backbone copies inside an official EI
// checkpoint, by OfficialEiImporter.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <map>
#include <string>

namespace ei {

struct ImportedBackbone {
    std::map<std::string, torch::Tensor> tensors;  // canonical names, no `backbone.` prefix, F32, contiguous
    nlohmann::json config;                         // the MODEL.md section 7 `backbone` object
    std::string scheme;                            // detected naming scheme, e.g. "timm DINOv2 (registers)"
};

class BackboneImporter {
public:
    struct Options {
        std::string family = "auto";  // auto | dinov2 | clip: a given family must match the detected one
        int heads = 0;                // used when neither metadata nor the size table knows the head count
    };

    // Reads safetensors or a torch.save .pth (decided by content, not by extension).
    // Returns the tensors and, for safetensors, the __metadata__ map.
    static std::map<std::string, torch::Tensor> readWeights(const std::string& path,
                                                            std::map<std::string, std::string>* metadata = nullptr);

    // Detects the naming scheme of `source`, maps every tensor to its canonical name
    // (fusing split q/k/v, reshaping CLIP's class embedding, folding timm's reg4 layout
    // back), checks every shape and infers the config. A missing, unexpected or
    // mis-shaped tensor throws ei::ModelError naming it and `sourceName`.
    static ImportedBackbone convert(const std::map<std::string, torch::Tensor>& source,
                                    const std::map<std::string, std::string>& metadata, const Options& options,
                                    const std::string& sourceName);

    static ImportedBackbone importFile(const std::string& path, const Options& options);

    // Writes the canonical tensors with `config` metadata (the backbone object), atomically.
    static void write(const std::string& path, const ImportedBackbone& backbone);

    // The canonical tensor names and shapes a backbone with this config must have.
    static std::map<std::string, std::vector<std::int64_t>> expectedShapes(const nlohmann::json& config);
};

}  // namespace ei
