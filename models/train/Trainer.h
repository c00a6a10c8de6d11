// Fine-tuning of MODEL.md section 5 on examples held in memory or read per batch
// (TrainingData::readTrain): stage 1 trains one unimodal
// model per modality (MoR set + head), stage 2 builds the EI (or late-fusion) model from
// them and trains it with the losses of models/train/Loss. SGD with momentum and weight decay
// (our own few lines, so the momentum buffers go into checkpoints), cyclic or cosine LR
// per iteration, validation before training and after every epoch on val mAP, early
// stopping, best parameters kept. After every epoch the whole state is written
// atomically to RUN_DIR/checkpoint.safetensors; random draws (shuffle, augmentation)
// are seeded per (seed, stage, epoch), so a resumed run repeats exactly what an
// uninterrupted one would have done. No Qt, no image files: core/training reads the data
// set (TrainingDataSet) and saves the model (TrainingJob).
#pragma once

#include "models/ei/EiModel.h"
#include "models/JobControl.h"
#include "models/ei/ModelConfig.h"
#include "models/train/Optimizer.h"
#include "models/train/TrainConfig.h"
#include "models/vit/VisionTransformer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ei {

class Distributed;

struct TrainingExample {
    // Per modality of the FULL model config (manifest order = model order):
    // raw [D, C, H, W] in [0, 1] (D = 1 for an image, C = 1 or 3) for augmentation;
    // prepared [S, 3, h, w] normalised model input (evaluation). Either may be undefined
    // (raw for val / test, prepared for train), not both.
    std::vector<torch::Tensor> raw;
    std::vector<torch::Tensor> prepared;
    torch::Tensor target;  // [C] float, one-hot or multi-hot
};

struct TrainingData {
    // With readTrain set, train examples hold only their targets: a batch reads the raw
    // inputs it needs through readTrain(index) (models/train/TrainingExamples), so a rank
    // of a data-parallel run reads its own slices only.
    std::vector<TrainingExample> train;
    // Rank 0 alone validates: the other ranks of a data-parallel run may leave val empty.
    std::vector<TrainingExample> val;
    std::function<std::vector<torch::Tensor>(std::size_t index)> readTrain;
    // Identifies the data set for resume (checkpoint `data_fingerprint`), with the name of
    // the rule that made it (core/training: "files"). The caller knows where the data came
    // from; empty leaves the data set unchecked on resume.
    std::string fingerprint;
    std::string fingerprintKind;
};

struct TrainOutcome {
    ModelConfig config;                              // the trained model's config
    std::map<std::string, torch::Tensor> parameters; // best parameters (section-7 names)
    nlohmann::json summary;                          // per stage: epochs, best val mAP, samples/s; trainable count
};


class Trainer {
public:
    // modelConfig: the final model (fusion ei / late / unimodal; for unimodal, the
    // config of the one trained modality). backbone: frozen, shared by every stage.
    // modalityIndex: for unimodal, which column of the examples it reads.
    Trainer(TrainConfig config, ModelConfig modelConfig, std::shared_ptr<VisionTransformer> backbone,
            std::string runDir, int unimodalColumn = 0);

    // onEvent receives every JSON-lines progress record (also appended to
    // RUN_DIR/progress.jsonl). control may cancel between iterations (ei::Cancelled);
    // the last completed epoch's checkpoint stays, and resume = true continues it.
    TrainOutcome run(const TrainingData& data, bool resume, const std::function<void(const nlohmann::json&)>& onEvent = {},
                     const JobControl* control = nullptr);

    // A resume refuses a checkpoint made on another data set (TrainingData::fingerprint)
    // unless this is set.
    void setResumeOnOtherData(bool allow);
    // One rank of a data-parallel run (models/dist/DataParallel.h): this rank trains on its
    // slice of every global batch (TrainConfig::batchSize, which must divide among the
    // ranks); rank 0 alone validates, logs and writes checkpoints, the others follow its
    // decisions. The result equals a one-process run's to float tolerance.
    void setDistributed(std::shared_ptr<Distributed> dist);
    // Memory for training examples read through TrainingData::readTrain (default 4 GiB per
    // process); 0 reads every batch from disk. Results do not depend on it.
    void setDataCacheBytes(std::size_t bytes);

    // Trainable tensors (everything that is not the backbone) of a config's model.
    static std::int64_t trainableParameterCount(const ModelConfig& config);

    // Fused (or unimodal) scores of a model on prepared examples, [N][C], and the
    // probabilities; logits when `logits` is true. `without` >= 0: that modality (index into
    // `columns`) is left out, as a study missing it.
    static std::vector<std::vector<double>> predict(const EiModel& model, const std::vector<TrainingExample>& examples,
                                                    const std::vector<int>& columns, int batchSize, bool logits = false,
                                                    int without = -1);

private:
    struct Private;
    std::shared_ptr<Private> d;
};

}  // namespace ei
