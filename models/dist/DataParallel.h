// The trainer's side of data parallelism (issue 17), kept out of Trainer.cpp. With no
// Distributed (a run on one process) every call is the identity, so a one-process run is
// exactly what it was before.
//
// The rule that makes N ranks give the model of one rank: the global batch is the one a
// single process would make (the same shuffled order, the same augmentation draws, made
// by every rank for every study of the batch); rank r trains on its slice of it; each
// rank's gradients are weighted by its share of the batch (its count / the batch's) and
// summed over the ranks: the mean over the global batch, as one process computes it. All
// ranks then take the same optimiser step and keep identical parameters.
#pragma once

#include "models/dist/Distributed.h"

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ei {

// batch_size is the global batch (issue 17's contract): BadInputError naming `source`
// when it does not divide evenly among the ranks.
void checkGlobalBatch(int batchSize, int worldSize, const std::string& source);

class DataParallel {
public:
    explicit DataParallel(std::shared_ptr<Distributed> dist = nullptr) : dist_(std::move(dist)) {}

    bool enabled() const { return dist_ != nullptr; }
    bool isMain() const { return !dist_ || dist_->isMain(); }
    int rank() const { return dist_ ? dist_->rank() : 0; }
    int worldSize() const { return dist_ ? dist_->worldSize() : 1; }

    // This rank's slice [begin, end) of a batch of `count` studies (the global batch
    // size split evenly; the last batch of an epoch may leave a rank fewer, or none).
    std::pair<int, int> shard(int count, int batchSize) const;

    // After backward: every parameter's gradient weighted by local / global count and
    // summed over the ranks. A gradient undefined on every rank (a branch no study
    // reached) stays undefined, as on one process; defined on some, it is defined on all.
    void syncGradients(std::map<std::string, torch::Tensor>& params, int localCount, int globalCount) const;
    // Per-study means (the step's loss terms) over the global batch.
    std::vector<double> meanOverBatch(const std::vector<double>& local, int localCount, int globalCount) const;
    // Rank 0's parameters on every rank.
    void broadcastParams(std::map<std::string, torch::Tensor>& params) const;
    double valueFromMain(double value) const { return dist_ ? dist_->broadcastValue(value) : value; }
    std::string bytesFromMain(const std::string& bytes) const { return dist_ ? dist_->broadcastBytes(bytes) : bytes; }
    // "" when every rank is ready, else the first problem (see Distributed::agree).
    std::string agree(const std::string& problem) const { return dist_ ? dist_->agree(problem) : problem; }

    // Seconds spent in syncGradients / meanOverBatch since the last call (the collectives'
    // share of a step, for the progress log and the benchmarks).
    double takeSyncSeconds() const
    {
        const double s = syncSeconds_;
        syncSeconds_ = 0;
        return s;
    }

private:
    std::shared_ptr<Distributed> dist_;
    mutable double syncSeconds_ = 0;
};

}  // namespace ei
