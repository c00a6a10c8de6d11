// `eiview-cli init --config CONFIG.json [--backbone B] [--seed N] [--random-adapters]
// --out MODEL.eimodel`: a fresh model as the official code initialises one (MoR = identity),
// with the given backbone referenced by file + SHA-256, or a seeded random backbone embedded.
#include "app/cli/CliCommand.h"

#include "models/ei/EiModel.h"
#include "models/io/EiModelFile.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

namespace ei::cli {
namespace {

const char* kSynopsis =
    "eiview-cli init --config CONFIG.json [--backbone B] [--seed N] [--random-adapters] --out MODEL.eimodel";

std::uint64_t parseSeed(const CliArgs& args)
{
    const std::string v = args.valueOr("seed", "0");
    if (!v.empty() && v.size() <= 19 && v.find_first_not_of("0123456789") == std::string::npos)
        return std::stoull(v);
    throw UsageError("--seed needs a non-negative integer, got '" + v + "'");
}

nlohmann::json readJson(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot open the config file");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return nlohmann::json::parse(ss.str());
    } catch (const nlohmann::json::exception& e) {
        throw BadInputError(path, std::string("not valid JSON (") + e.what() + ")");
    }
}

int runInit(CliArgs& args)
{
    args.parse({"config", "backbone", "seed", "out"}, {"random-adapters"});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const std::string configPath = args.required("config");
    const std::string out = args.required("out");
    const std::uint64_t seed = parseSeed(args);
    const auto backbonePath = args.value("backbone");

    const nlohmann::json raw = readJson(configPath);
    std::shared_ptr<VisionTransformer> backbone;
    ModelConfig config;
    if (backbonePath) {
        backbone = EiModelFile::readBackbone(*backbonePath);
        config = ModelConfig::fromJsonWithBackbone(raw, configPath, backbone->config());
        backbone = std::make_shared<VisionTransformer>(config.backbone, backbone->weights(), *backbonePath);
    } else {
        config = ModelConfig::fromJson(raw, configPath);
    }
    torch::manual_seed(seed);
    if (!backbone)
        backbone = std::make_shared<VisionTransformer>(config.backbone, VisionTransformer::randomWeights(config.backbone),
                                                       "random backbone");
    EiModel model(config, backbone, EiModel::initialParameters(config, args.has("random-adapters")), out);
    EiModelWriteOptions options;
    if (backbonePath)
        options.backbonePath = *backbonePath;
    options.intendedUse = backbonePath ? "untrained model (fresh MoR, adapters and heads), not for clinical use"
                                       : "untrained model with a random backbone, for tests; not for clinical use";
    EiModelFile::write(out, model, options);
    const nlohmann::json summary{{"out", out},
                                 {"fusion", config.fusion},
                                 {"parameters", {{"total", model.totalParameterCount()},
                                                 {"trainable", model.trainableParameterCount()}}},
                                 {"backbone", backbonePath ? *backbonePath : std::string("embedded (random)")}};
    std::cout << summary.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"init", kSynopsis, "create a fresh (untrained) EI model from a config", runInit});

}  // namespace ei::cli
