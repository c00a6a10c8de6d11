// Model inputs for training and prediction (see TrainingBatch.h).
#include "models/train/TrainingBatch.h"

#include "models/train/Augment.h"

#include <algorithm>

namespace ei {

torch::Tensor preparedInput(const TrainingExample& ex, int column, const ModalityConfig& mc, const ModelConfig& config)
{
    if (column < static_cast<int>(ex.prepared.size()) && ex.prepared[column].defined())
        return ex.prepared[column];
    const auto& raw = ex.raw.at(column);
    std::vector<torch::Tensor> slices;
    const std::vector<int> indices = mc.isVolume() ? officialSliceIndices(static_cast<int>(raw.size(0)), mc.slices)
                                                   : std::vector<int>{0};
    for (int i : indices)
        slices.push_back(normalizeImage(resizeForModel(raw[i], mc.size[0], mc.size[1]), config.mean, config.std));
    return torch::stack(slices);
}

torch::Tensor toModelBatch(const std::vector<torch::Tensor>& items, const ModalityConfig& mc)
{
    auto batch = torch::stack(items);  // [B, S, 3, H, W]
    return mc.isVolume() ? batch : batch.select(1, 0);
}

TrainingBatch makeTrainingBatch(TrainingExamples& train, const std::vector<int>& order, int index,
                                int batchSize, const std::vector<int>& columns, const ModelConfig& stage,
                                const ModelConfig& model, const AugmentConfig& augment, std::mt19937& rng,
                                const torch::Device& device, std::pair<int, int> shard)
{
    TrainingBatch batch;
    const int b0 = index * batchSize;
    const int b1 = std::min<int>(static_cast<int>(train.size()), b0 + batchSize);
    const int s0 = b0 + shard.first, s1 = shard.second < 0 ? b1 : std::min(b1, b0 + shard.second);
    batch.size = std::max(0, s1 - s0);
    std::vector<std::vector<torch::Tensor>> perModality(columns.size());
    std::vector<torch::Tensor> targets;
    for (int b = b0; b < b1; ++b) {
        const bool mine = b >= s0 && b < s1;
        std::vector<torch::Tensor> example;
        if (mine) {
            targets.push_back(train.target(order[b]));
            example = train.raw(order[b]);
        }
        for (std::size_t k = 0; k < columns.size(); ++k) {
            if (!mine) {  // another rank's study: its draws are taken, its image is not read
                drawAugmentParams(rng, augment, 0, 0);
                continue;
            }
            const auto& mc = stage.modalities[k];
            const auto& raw = example.at(columns[k]);
            const auto ap = drawAugmentParams(rng, augment, static_cast<int>(raw.size(2)), static_cast<int>(raw.size(3)));
            const std::vector<int> indices =
                mc.isVolume() ? officialSliceIndices(static_cast<int>(raw.size(0)), mc.slices, ap.sliceJitter)
                              : std::vector<int>{0};
            std::vector<torch::Tensor> slices;
            for (int s : indices)
                slices.push_back(normalizeImage(augmentImage(raw[s], ap, mc.size[0], mc.size[1]), model.mean, model.std));
            perModality[k].push_back(torch::stack(slices));
        }
    }
    if (batch.size == 0) {
        batch.inputs.resize(columns.size());
        return batch;
    }
    for (std::size_t k = 0; k < columns.size(); ++k)
        batch.inputs.push_back(toModelBatch(perModality[k], stage.modalities[k]).to(device));
    batch.target = torch::stack(targets).to(device);
    return batch;
}

int dropModality(TrainingBatch& batch, double rate, std::mt19937& rng)
{
    const auto M = batch.inputs.size();
    if (rate <= 0.0 || M < 2)
        return -1;
    const double u = static_cast<double>(rng()) / 4294967296.0;  // [0, 1)
    const auto which = static_cast<int>(rng() % M);
    if (u >= rate)
        return -1;
    batch.inputs[static_cast<std::size_t>(which)] = torch::Tensor();
    batch.dropped = which;
    return which;
}

}  // namespace ei
