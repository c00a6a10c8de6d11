// The data set side of training and evaluation (core/training/TrainingJob): a manifest
// checked image by image before any work, and the examples models/train reads from it.
// No image is kept in memory here: the training split is read batch by batch
// (models/train/TrainingExamples), so a rank of a data-parallel run reads only its shard.
// Internal to core/training (LibTorch in the interface): ui/ includes TrainingJob.h only.
#pragma once

#include "core/data/Manifest.h"
#include "models/ei/ModelConfig.h"
#include "models/train/Trainer.h"

#include <string>
#include <vector>

namespace ei {

class Distributed;

// Reads the manifest and decodes every image it names to check it (each problem with its
// row; ei::BadInputError listing them all), keeping none. With `dist`, rank r decodes
// every N-th file and the ranks' problems are gathered, so each image is decoded once
// and every rank stops with the same list.
Manifest checkedManifest(const std::string& path, const std::vector<std::string>& modalities,
                         const std::vector<std::string>& classes, bool multilabel, const std::vector<std::string>& required,
                         Distributed* dist = nullptr);

// A data set's identity for resume without decoding an image: the train and val rows (id,
// target) and the SHA-256 of every file the columns read. A moved data set keeps it.
std::string filesFingerprint(const Manifest& manifest, const std::vector<int>& columns);

// The examples of a split as the model reads them (resized, normalised, no augmentation),
// images read now: each of `columns` as `config` reads the modality of that index (config
// lists every manifest column).
std::vector<TrainingExample> preparedExamples(const Manifest& manifest, const std::string& split, const ModelConfig& config,
                                              const std::vector<int>& columns);

// What the trainer reads: train examples holding their targets, with readTrain reading a
// study's images ([D, C, H, W] in [0, 1], the loaders' intensity rule) when a batch needs
// them; on rank 0 (or without `dist`) the validation split, prepared as `full` (column c
// is its modality c) reads it, and the fingerprint, which `dist` hands to every rank.
// `manifest` must outlive the result.
TrainingData trainingDataOf(const Manifest& manifest, const ModelConfig& full, const std::vector<int>& columns,
                            Distributed* dist);

}  // namespace ei
