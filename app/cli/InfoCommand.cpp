// `eiview-cli info MODEL`: the model's config, parameter counts (total / trainable) and
// backbone reference, as JSON. Reads only the metadata (a referenced backbone need not
// be present).
#include "app/cli/CliCommand.h"

#include "models/ei/EiModel.h"
#include "models/io/EiModelFile.h"
#include "models/train/Calibration.h"
#include "models/Error.h"
#include "models/vit/VisionTransformer.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

const char* kSynopsis = "eiview-cli info MODEL";

std::int64_t countOf(const std::vector<std::pair<std::string, std::vector<std::int64_t>>>& shapes)
{
    std::int64_t n = 0;
    for (const auto& [name, shape] : shapes) {
        std::int64_t e = 1;
        for (auto s : shape)
            e *= s;
        n += e;
    }
    return n;
}

int runInfo(CliArgs& args)
{
    args.parse({}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(1, "one model file");
    const std::string path = args.positional()[0];
    const auto metadata = EiModelFile::readMetadata(path);
    const ModelConfig config = EiModelFile::configOf(metadata, path);
    const std::int64_t trainable = countOf(EiModel::tensorShapes(config));
    const std::int64_t backbone = countOf(VisionTransformer::tensorShapes(config.backbone));
    nlohmann::json j{{"path", path},
                     {"format_version", metadata.at("format_version")},
                     {"config", config.toJson()},
                     {"parameters", {{"total", trainable + backbone}, {"trainable", trainable}, {"backbone", backbone}}}};
    if (const auto it = metadata.find("backbone_file"); it != metadata.end())
        j["backbone"] = {{"embedded", false}, {"file", it->second},
                         {"sha256", metadata.count("backbone_sha256") ? metadata.at("backbone_sha256") : ""}};
    else
        j["backbone"] = {{"embedded", true}};
    if (const auto it = metadata.find("intended_use"); it != metadata.end())
        j["intended_use"] = it->second;
    if (const auto it = metadata.find("training"); it != metadata.end()) {
        try {
            j["training"] = nlohmann::json::parse(it->second);
        } catch (const nlohmann::json::exception&) {
            j["training"] = it->second;
        }
    }
    // Calibrated or not, always said: a clinician's "80 %" depends on it.
    const TemperatureScaling scaling =
        TemperatureScaling::fromMetadata(metadata, config.classes.size(), config.multilabel, path);
    j["calibrated"] = !scaling.empty();
    j["calibration"] = scaling.empty() ? nlohmann::json(nullptr) : scaling.toJson();
    std::cout << j.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"info", kSynopsis, "show a model's config, parameter counts and backbone reference", runInfo});

}  // namespace ei::cli
