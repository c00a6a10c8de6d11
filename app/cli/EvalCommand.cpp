// `eiview-cli eval --model MODEL --manifest DATA.csv [--split test] [--json OUT]
// [--predictions OUT.csv] [--score probs|logits] [--device D]`: the metrics of MODEL.md
// section 6 on one split, as JSON (MODEL.md section 8).
#include "app/cli/CliCommand.h"

#include "core/training/TrainingJob.h"
#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

int runEval(CliArgs& args)
{
    args.parse({"model", "manifest", "split", "json", "predictions", "score", "device", "precision"}, {});
    if (args.helpRequested()) {
        std::cout << "eiview-cli eval --model MODEL --manifest DATA.csv [--split test] [--json OUT] [--predictions OUT.csv]"
                     " [--score probs|logits] [--device D] [--precision auto|fp32|tf32|bf16|fp16]\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    EvaluationRequest request;
    request.modelPath = args.required("model");
    request.manifestPath = args.required("manifest");
    request.split = args.valueOr("split", "test");
    if (request.split != "train" && request.split != "val" && request.split != "test")
        throw UsageError("--split must be train, val or test");
    const std::string score = args.valueOr("score", "probs");
    if (score != "probs" && score != "logits")
        throw UsageError("--score must be probs or logits");
    request.scoreLogits = score == "logits";
    request.predictionsPath = args.valueOr("predictions", "");
    request.device = args.valueOr("device", "cpu");
    request.precision = args.valueOr("precision", "auto");
    const auto metrics = runEvaluation(request);
    auto j = metrics.toJson();
    j["split"] = request.split;
    j["score"] = score;
    const std::string text = j.dump(2) + "\n";
    if (const auto out = args.value("json"))
        writeFileAtomically(*out, text);
    else
        std::cout << text;
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"eval",
                "eiview-cli eval --model MODEL --manifest DATA.csv [--split test] [--json OUT] [--predictions OUT.csv]"
                " [--score probs|logits] [--device D] [--precision P]",
                "AP / ROC AUC / S2 per class and their means on one split of a data set", runEval});

}  // namespace ei::cli
