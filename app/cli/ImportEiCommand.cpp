// `eiview-cli import-ei --config OFFICIAL_CONFIG.json --ckpt CHECKPOINT.pth [--uni-ckpt M=FILE ...]
// [--stage1-config M=FILE ...] [--classes MAPPING.json] [--backbone B] [--heads N] --out MODEL.eimodel`: converts a model trained with the paper's
// own code (OFFICIAL_EI.md) into an .eimodel and prints its config as JSON.
#include "app/cli/CliCommand.h"

#include "models/Error.h"
#include "models/import/OfficialEiImporter.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

const char* kSynopsis =
    "eiview-cli import-ei --config OFFICIAL_CONFIG.json --ckpt CHECKPOINT.pth [--uni-ckpt M=FILE ...] "
    "[--stage1-config M=FILE ...] [--classes MAPPING.json] [--backbone B] [--heads N] --out MODEL.eimodel";

int runImportEi(CliArgs& args)
{
    args.parse({"config", "ckpt", "uni-ckpt", "stage1-config", "classes", "backbone", "out", "heads"}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    OfficialEiImporter::Options options;
    options.configPath = args.required("config");
    options.checkpointPath = args.required("ckpt");
    options.backbonePath = args.valueOr("backbone", "");
    for (const auto& v : args.values("uni-ckpt"))
        options.uniCheckpoints.push_back(CliArgs::splitNameValue(v, "uni-ckpt"));
    for (const auto& v : args.values("stage1-config"))
        options.stage1Configs.push_back(CliArgs::splitNameValue(v, "stage1-config"));
    options.classesPath = args.valueOr("classes", "");
    if (const auto h = args.value("heads")) {
        try {
            std::size_t used = 0;
            options.heads = std::stoi(*h, &used);
            if (used != h->size() || options.heads <= 0)
                throw std::invalid_argument("heads");
        } catch (const std::exception&) {
            throw UsageError("--heads needs a positive integer, got '" + *h + "'");
        }
    }
    const std::string out = args.required("out");
    const auto model = OfficialEiImporter::importToFile(options, out);
    const nlohmann::json summary{{"out", out},
                                 {"backbone", options.backbonePath.empty() ? "embedded" : options.backbonePath},
                                 {"tensors", model.parameters.size() + (options.backbonePath.empty() ? model.backbone.tensors.size() : 0)},
                                 {"config", model.config},
                                 {"training", model.training}};
    std::cout << summary.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"import-ei", kSynopsis, "convert a checkpoint of the official EI code into an .eimodel", runImportEi});

}  // namespace ei::cli
