// `eiview-cli train --manifest DATA.csv --config TRAIN.json [--backbone B] --out RUN_DIR
// [--precision P] [--cache-mb MB] [--resume] [--dist-url tcp://HOST:PORT --world-size N --rank R]
// [--dist-backend auto|gloo|nccl] [--dist-timeout S]`: fine-tunes per MODEL.md section 5
// (core/training/TrainingJob) and prints the progress as JSON lines on stdout (also kept
// in RUN_DIR/progress.jsonl). Run as one of N data-parallel ranks when WORLD_SIZE (and
// MASTER_ADDR, MASTER_PORT, RANK, LOCAL_RANK) are set, as torchrun and Slurm scripts set
// them, or when --world-size is given; rank 0 prints and writes, the others train.
#include "app/cli/CliCommand.h"
#include "app/cli/DistributedArgs.h"

#include "core/training/TrainingJob.h"

#include "models/dist/Distributed.h"

#include <iostream>

namespace ei::cli {
namespace {

const std::string kSynopsis =
    std::string("eiview-cli train --manifest DATA.csv --config TRAIN.json [--backbone B] --out RUN_DIR "
                "[--precision auto|fp32|tf32|bf16|fp16] [--cache-mb MB] [--resume | --resume-other-data]") +
    kDistributedSynopsis;

int runTrain(CliArgs& args)
{
    std::set<std::string> options{"manifest", "config", "backbone", "out", "precision", "cache-mb"};
    options.insert(distributedOptionNames().begin(), distributedOptionNames().end());
    args.parse(options, {"resume", "resume-other-data"});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
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
    request.dataCacheMb = args.intValueOr("cache-mb", -1);
    request.distributed = distributedOptions(args);
    try {
        runTraining(request, [](const std::string& line) { std::cout << line << std::endl; });
    } catch (const DistributedError& e) {
        throw DistributedError(std::string(e.what()) + "; the run's last checkpoint in " + request.outDir +
                               " is kept: start every rank again with --resume");
    }
    if (request.distributed.enabled() && request.distributed.rank != 0)
        std::cerr << "eiview-cli train: rank " << request.distributed.rank << " of " << request.distributed.worldSize
                  << " done (rank 0 wrote the model)\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"train", kSynopsis,
                "fine-tune a model on a CSV data set (two stages, JSON-lines progress)", runTrain});

}  // namespace ei::cli
