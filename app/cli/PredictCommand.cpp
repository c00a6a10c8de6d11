// `eiview-cli predict --model M --manifest CSV [--split S] --out RESULTS.csv [--maps DIR]
// [--device D] [--precision P] [--batch-size N]`: every study of a manifest scored into
// one CSV (core/scoring/BatchScoring: columns, resume, failures). Progress on stderr, a
// JSON summary on stdout; exit 3 when some studies could not be read (the others are in
// RESULTS.csv, the reasons in RESULTS.csv.errors.csv). Sharded over N ranks with the
// launcher's variables or the --dist-* options, as `train`; rank 0 writes.
#include "app/cli/CliCommand.h"
#include "app/cli/DistributedArgs.h"

#include "core/scoring/BatchScoring.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

const std::string kSynopsis =
    std::string("eiview-cli predict --model MODEL --manifest DATA.csv [--split train|val|test] --out RESULTS.csv [--maps DIR]"
                " [--device D] [--precision auto|fp32|tf32|bf16|fp16] [--batch-size N]") +
    kDistributedSynopsis;

int runPredict(CliArgs& args)
{
    std::set<std::string> options{"model", "manifest", "split", "out", "maps", "device", "precision", "batch-size"};
    options.insert(distributedOptionNames().begin(), distributedOptionNames().end());
    args.parse(options, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    ScoringRequest request;
    request.modelPath = args.required("model");
    request.manifestPath = args.required("manifest");
    request.outPath = args.required("out");
    request.split = args.valueOr("split", "");
    if (!request.split.empty() && request.split != "train" && request.split != "val" && request.split != "test")
        throw UsageError("--split must be train, val or test");
    request.mapsDir = args.valueOr("maps", "");
    request.device = args.valueOr("device", "cpu");
    request.precision = args.valueOr("precision", "auto");
    request.batchSize = args.intValueOr("batch-size", 8);
    if (request.batchSize < 1)
        throw UsageError("--batch-size must be at least 1");
    request.distributed = distributedOptions(args);
    const bool main = request.distributed.rank == 0;

    int lastPercent = -1;
    const ScoringSummary summary = scoreManifest(request, [&](int done, int total) {
        if (!main)
            return;
        const int percent = total > 0 ? done * 100 / total : 100;
        if (percent != lastPercent)
            std::cerr << "predict: " << done << " / " << total << " studies\n";
        lastPercent = percent;
    });
    if (!main) {  // rank 0 reports for the run
        std::cerr << "eiview-cli predict: rank " << request.distributed.rank << " of " << request.distributed.worldSize
                  << " done (rank 0 wrote " << request.outPath << ")\n";
        return 0;
    }
    nlohmann::json j{{"out", request.outPath},
                     {"total", summary.total},
                     {"resumed", summary.resumed},
                     {"scored", summary.scored},
                     {"failed", summary.failures.size()}};
    if (!summary.errorsPath.empty())
        j["errors"] = summary.errorsPath;
    std::cout << j.dump(2) << "\n";
    if (!summary.failures.empty()) {
        std::cerr << "eiview-cli predict: " << summary.failures.size() << " of " << summary.total
                  << " studies could not be scored (row " << summary.failures.front().first << ": "
                  << summary.failures.front().second << "); every reason is in " << summary.errorsPath << "\n";
        return 3;
    }
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"predict", kSynopsis, "scores every study of a manifest into one CSV (resumable, batched)", runPredict});

}  // namespace ei::cli
