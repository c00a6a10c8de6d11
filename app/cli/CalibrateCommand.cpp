// `eiview-cli calibrate --model MODEL --manifest DATA.csv [--split val] --out CALIBRATED.eimodel
// [--device D] [--precision P] [--json OUT]`: fits temperature scaling of a model's fused
// probabilities on one split and writes the model with it (core/training/TrainingJob's
// calibrateModel); prints the temperatures and ECE / Brier before and after.
#include "app/cli/CliCommand.h"

#include "core/training/TrainingJob.h"
#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

namespace ei::cli {
namespace {

const char* kSynopsis =
    "eiview-cli calibrate --model MODEL --manifest DATA.csv [--split val] --out CALIBRATED.eimodel [--device D] "
    "[--precision auto|fp32|tf32|bf16|fp16] [--json OUT]";

int runCalibrate(CliArgs& args)
{
    args.parse({"model", "manifest", "split", "out", "device", "precision", "json"}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    EvaluationRequest request;
    request.modelPath = args.required("model");
    request.manifestPath = args.required("manifest");
    request.split = args.valueOr("split", "val");
    if (request.split != "train" && request.split != "val" && request.split != "test")
        throw UsageError("--split must be train, val or test");
    request.device = args.valueOr("device", "cpu");
    request.precision = args.valueOr("precision", "auto");
    const std::string out = args.required("out");
    std::error_code ec;
    if (std::filesystem::equivalent(out, request.modelPath, ec))
        throw UsageError("--out must be a new file: the model itself is never changed");
    const CalibrationRun run = calibrateModel(request, out);
    const auto metrics = run.metrics.toJson();
    nlohmann::json j{{"model", out},
                     {"calibration", run.scaling.toJson()},
                     {"split", request.split},
                     {"n", run.metrics.n},
                     {"ece", metrics["ece"]},
                     {"brier", metrics["brier"]}};
    const std::string text = j.dump(2) + "\n";
    if (const auto path = args.value("json"))
        writeFileAtomically(*path, text);
    else
        std::cout << text;
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"calibrate", kSynopsis,
                "fit temperature scaling of a model's probabilities on a split and write the calibrated model", runCalibrate});

}  // namespace ei::cli
