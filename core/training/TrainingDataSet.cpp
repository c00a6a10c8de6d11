// A training data set read from its manifest (see TrainingDataSet.h).
#include "core/training/TrainingDataSet.h"

#include "core/io/ImageLoader.h"
#include "core/study/Preprocess.h"
#include "models/dist/Distributed.h"
#include "models/io/Sha256.h"

#include <nlohmann/json.hpp>

#include <set>

namespace ei {
namespace {

// [D, C, H, W] in [0, 1]: the loader's intensity rule (Preprocess step 2), no resize.
torch::Tensor rawTensor(const Image& image)
{
    std::vector<torch::Tensor> slices;
    for (int s = 0; s < std::max(1, image.slices); ++s) {
        auto values = sliceTo255(image, s);
        auto t = torch::from_blob(values.data(), {image.height, image.width, image.channels}, torch::kFloat).clone();
        slices.push_back(t.permute({2, 0, 1}).div(255.0f).clamp(0, 1));
    }
    return torch::stack(slices).contiguous();
}

}  // namespace

Manifest checkedManifest(const std::string& path, const std::vector<std::string>& modalities,
                         const std::vector<std::string>& classes, bool multilabel, const std::vector<std::string>& required,
                         Distributed* dist)
{
    ManifestOptions options;
    options.modalities = modalities;
    options.classes = classes;
    options.multilabel = multilabel;
    options.requiredSplits = required;
    const int rank = dist ? dist->rank() : 0, ranks = dist ? dist->worldSize() : 1;
    std::set<std::string> seen;
    options.checkImage = [&](const std::string& file) {
        if (seen.insert(file).second && static_cast<int>((seen.size() - 1) % ranks) == rank)
            loadImage(file);
    };
    Manifest manifest = Manifest::read(path, options);
    if (dist) {
        nlohmann::json mine = nlohmann::json::array();
        for (const ManifestProblem& p : manifest.problems())
            mine.push_back({p.row, p.problem});
        for (int r = 0; r < ranks; ++r) {
            const auto theirs = nlohmann::json::parse(dist->broadcastBytes(r == rank ? mine.dump() : std::string(), r));
            std::vector<ManifestProblem> more;
            for (const auto& p : theirs)
                more.push_back({p.at(0).get<int>(), p.at(1).get<std::string>()});
            manifest.addProblems(more);
        }
    }
    manifest.throwIfProblems();
    return manifest;
}

std::string filesFingerprint(const Manifest& manifest, const std::vector<int>& columns)
{
    Sha256 h;
    for (const char* split : {"train", "val"}) {
        const auto rows = manifest.split(split);
        h.update(std::string(split) + ":" + std::to_string(rows.size()) + ";");
        for (const ManifestRow* row : rows) {
            std::string line = row->id + "|";
            for (int c : columns)
                line += Sha256::ofFile(row->files.at(static_cast<std::size_t>(c))) + ",";
            for (float t : manifest.target(*row))
                line += std::to_string(t) + " ";
            h.update(line + "\n");
        }
    }
    return h.hexDigest();
}

std::vector<TrainingExample> preparedExamples(const Manifest& manifest, const std::string& split, const ModelConfig& config,
                                              const std::vector<int>& columns)
{
    std::vector<TrainingExample> out;
    for (const ManifestRow* row : manifest.split(split)) {
        TrainingExample ex;
        ex.prepared.resize(row->files.size());
        for (int c : columns)
            ex.prepared[static_cast<std::size_t>(c)] =
                preprocessForModel(loadImage(row->files.at(static_cast<std::size_t>(c))), modelInputSpec(config, c));
        ex.target = torch::tensor(manifest.target(*row), torch::kFloat);
        out.push_back(std::move(ex));
    }
    return out;
}

TrainingData trainingDataOf(const Manifest& manifest, const ModelConfig& full, const std::vector<int>& columns,
                            Distributed* dist)
{
    TrainingData data;
    const auto trainRows = manifest.split("train");
    for (const ManifestRow* row : trainRows) {
        TrainingExample ex;
        ex.target = torch::tensor(manifest.target(*row), torch::kFloat);
        data.train.push_back(std::move(ex));
    }
    data.readTrain = [trainRows, columns](std::size_t index) {
        const ManifestRow& row = *trainRows.at(index);
        std::vector<torch::Tensor> raw(row.files.size());
        for (int c : columns)
            raw[static_cast<std::size_t>(c)] = rawTensor(loadImage(row.files.at(static_cast<std::size_t>(c))));
        return raw;
    };
    if (!dist || dist->isMain()) {  // rank 0 alone validates and identifies the data
        data.val = preparedExamples(manifest, "val", full, columns);
        data.fingerprint = filesFingerprint(manifest, columns);
    }
    data.fingerprintKind = "files";
    if (dist)
        data.fingerprint = dist->broadcastBytes(data.fingerprint);
    return data;
}

}  // namespace ei
