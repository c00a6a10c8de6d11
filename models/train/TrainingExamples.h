// The training split as the batch maker reads it (issue 17: each rank reads only its
// shard). Examples either sit in memory (TrainingData::train with raw inputs) or are read
// when a batch first needs them, through TrainingData::readTrain, and kept while they fit
// a byte budget (least recently used out first). A rank of a data-parallel run thus reads
// the studies of its slices and no others; a budget of 0 reads every batch from disk.
// The results do not depend on the budget: reading is deterministic and the augmentation
// draws do not depend on whether a study was read.
#pragma once

#include "models/train/Trainer.h"

#include <torch/torch.h>

#include <cstddef>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ei {

class TrainingExamples {
public:
    TrainingExamples(const TrainingData& data, std::size_t budgetBytes);

    std::size_t size() const { return data_.train.size(); }
    const torch::Tensor& target(int index) const { return data_.train.at(static_cast<std::size_t>(index)).target; }
    // Raw inputs of example `index` ([D, C, H, W] per column; undefined where not used).
    std::vector<torch::Tensor> raw(int index);

    // Examples read through readTrain since the last call (the progress log's
    // `examples_read`); always 0 for examples held in memory.
    long long takeReads();
    std::size_t heldBytes() const;

private:
    const TrainingData& data_;
    std::size_t budget_;
    mutable std::mutex mutex_;
    std::list<int> recent_;  // most recently used first
    struct Held {
        std::vector<torch::Tensor> raw;
        std::size_t bytes = 0;
        std::list<int>::iterator position;
    };
    std::unordered_map<int, Held> held_;
    std::size_t heldBytes_ = 0;
    long long reads_ = 0;
};

}  // namespace ei
