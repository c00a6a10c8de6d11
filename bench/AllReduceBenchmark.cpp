// `eiview-bench allreduce [--device D] [--backend auto|gloo|nccl] [--mb MB] [--reps N]
// [--json OUT]`: the trainer's gradient synchronisation (models/dist/DataParallel) on c10d,
// checked and timed. Run as one rank of N with the launcher's variables (MASTER_ADDR,
// MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK), or alone: a world of 1 on loopback, which
// still forms the process group (NCCL on a one-GPU box). Every rank's gradients are its
// rank + 1 over a ViT-B EI model's trainable size (7.1M floats, 28 MB by default), one
// tensor without a gradient on rank 0 only, and the flags on the host, as the trainer
// has them; after the sum each must be the mean over the ranks. Rank 0 reports.
#include "bench/BenchCommand.h"
#include "bench/BenchSupport.h"

#include "models/Device.h"
#include "models/Error.h"
#include "models/dist/DataParallel.h"
#include "models/dist/Distributed.h"
#include "models/dist/DistributedOptions.h"

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>

namespace ei::bench {
namespace {

int runAllReduce(const std::vector<std::string>& args)
{
    std::string device = "auto", backend = "auto", jsonPath;
    int mb = 28, reps = 20;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--device")
            device = optionValue(args, i);
        else if (args[i] == "--backend")
            backend = optionValue(args, i);
        else if (args[i] == "--mb")
            mb = intOptionValue(args, i, 1);
        else if (args[i] == "--reps")
            reps = intOptionValue(args, i, 1);
        else if (args[i] == "--json")
            jsonPath = optionValue(args, i);
        else
            throw UsageError("unknown option " + args[i]);
    }
    DistributedOptions options = DistributedOptions::fromEnvironment();
    if (!std::getenv("MASTER_ADDR"))
        options.masterAddr = "127.0.0.1";  // alone: a world of 1 on loopback
    options.backend = backend;
    options.timeout = std::chrono::seconds(60);
    const torch::Device dev = rankDevice(resolveDevice(device), options.localRank);
    const auto dist = Distributed::connect(options, dev);
    const DataParallel parallel(dist);
    const int rank = dist->rank(), world = dist->worldSize();

    // Gradients as the trainer holds them: four tensors on the device, one of them
    // without a gradient on rank 0 (a branch its studies did not reach).
    const std::int64_t total = static_cast<std::int64_t>(mb) * (1 << 20) / 4;
    std::map<std::string, torch::Tensor> params;
    const std::int64_t sizes[] = {total / 2, total / 4, total / 8, total - total / 2 - total / 4 - total / 8};
    for (int k = 0; k < 4; ++k)
        params["p" + std::to_string(k)] = torch::zeros({sizes[k]}, torch::TensorOptions().device(dev));
    auto fill = [&] {
        for (auto& [name, p] : params) {
            if (name == "p3" && rank == 0) {
                p.mutable_grad() = torch::Tensor();
                continue;
            }
            p.mutable_grad() = torch::full_like(p, static_cast<float>(rank + 1));
        }
    };
    // Each rank holds one study of a global batch of `world`: the sum is the mean.
    fill();
    parallel.syncGradients(params, 1, world);
    double worst = 0;
    for (const auto& [name, p] : params) {
        // p3 is missing on rank 0: its sum lacks rank 0's share (1 / world).
        const double expected = name == "p3" ? ((world * (world + 1)) / 2.0 - 1.0) / world : (world + 1) / 2.0;
        if (name == "p3" && world == 1) {  // no rank has it: it stays without one, as on one process
            if (p.grad().defined())
                throw ModelError("allreduce", "tensor p3 gained a gradient that no rank had");
            continue;
        }
        if (!p.grad().defined())
            throw ModelError("allreduce", "tensor " + name + " has no gradient after the sum on rank " + std::to_string(rank));
        worst = std::max(worst, (p.grad() - expected).abs().max().item<double>());
    }
    const std::string hello = parallel.bytesFromMain(rank == 0 ? "checkpoint bytes from rank 0" : "");
    const bool correct = worst < 1e-5 && hello == "checkpoint bytes from rank 0";

    // Timed: the synchronisation alone, on the gradients it left (their values do not
    // change its work).
    const auto seconds = timeRuns(2, reps, dev, [&] { parallel.syncGradients(params, 1, world); });
    const double ms = median(seconds) * 1e3;
    const double bytes = static_cast<double>(total) * 4;
    if (rank == 0) {
        std::cout << "eiview-bench allreduce: " << dist->backend() << ", " << world << " rank(s), " << deviceName(dev) << ", "
                  << mb << " MB of gradients\n"
                  << std::fixed << std::setprecision(2) << "  " << ms << " ms per synchronisation, "
                  << bytes / (ms * 1e-3) / 1e9 << " GB/s; " << (correct ? "sums correct" : "SUMS WRONG")
                  << " (largest error " << std::scientific << worst << ")\n";
        const nlohmann::json report = {{"backend", dist->backend()}, {"world_size", world}, {"device", deviceName(dev)},
                                       {"megabytes", mb}, {"ms_per_sync", ms}, {"gb_per_s", bytes / (ms * 1e-3) / 1e9},
                                       {"correct", correct}, {"largest_error", worst}};
        writeJsonReport(jsonPath, report);
    }
    return correct ? 0 : 1;
}

}  // namespace

EI_BENCH_COMMAND({"allreduce", "[--device D] [--backend auto|gloo|nccl] [--mb MB] [--reps N] [--json OUT]",
                  "the trainer's gradient all-reduce on c10d, checked and timed (one rank of the launcher's world, "
                  "or alone)",
                  runAllReduce});

}  // namespace ei::bench
