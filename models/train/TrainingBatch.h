// The tensors a training or prediction step reads: one example's model input without
// augmentation, items stacked into a model batch, and an augmented training batch.
#pragma once

#include "models/ei/ModelConfig.h"
#include "models/train/TrainConfig.h"
#include "models/train/Trainer.h"
#include "models/train/TrainingExamples.h"

#include <torch/torch.h>

#include <random>
#include <utility>
#include <vector>

namespace ei {

// An example's input for one modality as the model reads it for validation and
// prediction: resized, normalised, volumes at the official slice choice. [S, 3, H, W].
torch::Tensor preparedInput(const TrainingExample& ex, int column, const ModalityConfig& mc, const ModelConfig& config);
// [S, 3, H, W] items -> [B, 3, H, W] (images) or [B, S, 3, H, W] (volumes).
torch::Tensor toModelBatch(const std::vector<torch::Tensor>& items, const ModalityConfig& mc);

struct TrainingBatch {
    std::vector<torch::Tensor> inputs;  // per stage modality, on the device
    torch::Tensor target;               // [B, C] on the device
    int size = 0;                       // B
    int dropped = -1;                   // the stage modality this batch runs without (-1: none)
};

// Modality dropout: with chance `rate` one of the batch's modalities, chosen uniformly,
// is dropped (its input left undefined: EiModel::forward runs without it). Draws from
// `rng` only when rate > 0 and there are two or more modalities, so that runs without
// dropout stay as they were. Returns the dropped index or -1.

// Batch `index` of an epoch: examples order[index * batchSize, ...), each augmented with
// draws from `rng` in order (so batches made one after another reproduce a run),
// normalised, stacked and moved to `device`. `columns` are the stage's manifest columns,
// `stage` its model config, `model` the full config (normalisation).
// shard = [begin, end) within the batch: only those studies are made (a rank's slice of
// a data-parallel batch, models/dist/DataParallel) and only their inputs are read, but the
// draws of every study are taken (their number does not depend on the image), so that
// each study gets the draws it gets in a one-process run. An empty shard
// gives a batch of size 0 whose inputs are undefined. {0, -1}: the whole batch.
TrainingBatch makeTrainingBatch(TrainingExamples& train, const std::vector<int>& order, int index,
                                int batchSize, const std::vector<int>& columns, const ModelConfig& stage,
                                const ModelConfig& model, const AugmentConfig& augment, std::mt19937& rng,
                                const torch::Device& device, std::pair<int, int> shard = {0, -1});
int dropModality(TrainingBatch& batch, double rate, std::mt19937& rng);

}  // namespace ei
