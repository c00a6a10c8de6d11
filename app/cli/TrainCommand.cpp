// `eiview-cli train --manifest DATA.csv --config TRAIN.json [--backbone B] --out RUN_DIR
// [--precision P] [--resume]`: fine-tunes per MODEL.md section 5 (core/training/TrainingJob) and prints the
// progress as JSON lines on stdout (also kept in RUN_DIR/progress.jsonl).
#include "app/cli/CliCommand.h"

#include "core/training/TrainingJob.h"

#include <iostream>

namespace ei::cli {
namespace {

int runTrain(CliArgs& args)
{
    args.parse({"manifest", "config", "backbone", "out", "precision"}, {"resume", "resume-other-data"});
    if (args.helpRequested()) {
        std::cout << "eiview-cli train --manifest DATA.csv --config TRAIN.json [--backbone B] --out RUN_DIR [--precision auto|fp32|tf32|bf16|fp16] [--resume | --resume-other-data]\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    TrainingRequest request;
    request.manifestPath = args.required("manifest");
    request.configPath = args.required("config");
    request.backbonePath = args.valueOr("backbone", "");
    request.outDir = args.required("out");
    request.resume = args.has("resume") || args.has("resume-other-data");
    request.resumeOnOtherData = args.has("resume-other-data");
    request.precision = args.valueOr("precision", "");
    runTraining(request, [](const std::string& line) { std::cout << line << std::endl; });
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"train", "eiview-cli train --manifest DATA.csv --config TRAIN.json [--backbone B] --out RUN_DIR [--precision auto|fp32|tf32|bf16|fp16] [--resume | --resume-other-data]",
                "fine-tune a model on a CSV data set (two stages, JSON-lines progress)", runTrain});

}  // namespace ei::cli
