// `eiview-cli infer --model MODEL (--input NAME=FILE ... | --input-tensor NAME=X.npy ...)
// [--device auto|cpu|cuda[:k]] [--maps DIR] [--json OUT]`: one study through the same
// core/inference/InferenceRunner as the GUI; JSON of MODEL.md section 8, maps as .npy + PNG.
#include "app/cli/CliCommand.h"

#include "core/io/ImageLoader.h"
#include "core/inference/InferenceRunner.h"
#include "core/report/MapOverlay.h"
#include "core/study/Preprocess.h"
#include "models/io/AtomicFile.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

namespace ei::cli {
namespace {

namespace fs = std::filesystem;

const char* kSynopsis =
    "eiview-cli infer --model MODEL (--input NAME=FILE ... | --input-tensor NAME=X.npy ...) "
    "[--device auto|cpu|cuda[:k]] [--precision auto|fp32|tf32|bf16|fp16] [--maps DIR] [--json OUT]";

// Grey 0..1 pictures of the model input per slice ([S][H*W]), min-max scaled, for overlays.
std::vector<std::vector<float>> backgrounds(const float* data, std::int64_t S, std::int64_t H, std::int64_t W)
{
    std::vector<std::vector<float>> out;
    for (std::int64_t s = 0; s < S; ++s) {
        std::vector<float> g(static_cast<std::size_t>(H * W), 0.0f);
        for (int c = 0; c < 3; ++c)
            for (std::int64_t i = 0; i < H * W; ++i)
                g[static_cast<std::size_t>(i)] += data[(s * 3 + c) * H * W + i] / 3.0f;
        const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
        const float a = *lo, span = *hi - *lo > 1e-12f ? *hi - *lo : 1.0f;
        for (float& v : g)
            v = (v - a) / span;
        out.push_back(std::move(g));
    }
    return out;
}

int runInfer(CliArgs& args)
{
    args.parse({"model", "input", "input-tensor", "device", "precision", "maps", "json"}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const std::string modelPath = args.required("model");
    const auto files = args.values("input");
    const auto tensorFiles = args.values("input-tensor");
    if (files.empty() == tensorFiles.empty())
        throw UsageError("give the inputs either as --input NAME=FILE or as --input-tensor NAME=X.npy (not both)");
    std::map<std::string, std::string> sources;
    for (const auto& v : files.empty() ? tensorFiles : files) {
        auto [name, file] = CliArgs::splitNameValue(v, files.empty() ? "--input-tensor" : "--input");
        if (!sources.emplace(name, file).second)
            throw UsageError("modality " + name + " given twice");
    }

    InferenceRunner runner(modelPath, args.valueOr("device", "auto"), args.valueOr("precision", "auto"));
    const ModelSummary& summary = runner.summary();
    for (const auto& [name, file] : sources) {
        const bool known = std::any_of(summary.modalities.begin(), summary.modalities.end(),
                                       [&](const ModelSummary::Modality& m) { return m.name == name; });
        if (!known)
            throw UsageError("the model has no modality " + name);
    }
    for (const auto& m : summary.modalities)
        if (!sources.count(m.name))
            throw UsageError("no input for the model's modality " + m.name);

    const bool maps = args.has("maps");
    std::map<std::string, std::vector<std::vector<float>>> pictures;  // overlay backgrounds
    InferenceResult result;
    if (!tensorFiles.empty()) {
        std::map<std::string, NpyArray> tensors;
        for (const auto& m : summary.modalities) {
            const std::string& file = sources.at(m.name);
            NpyArray a = readNpy(file);
            const std::int64_t S = m.kind == "volume" ? m.slices : 1;
            if (a.shape.size() != 4 || a.shape[0] != S || a.shape[1] != 3)
                throw BadInputError(file, "input tensor for " + m.name + " must be [" + std::to_string(S) + ",3,H,W]" +
                                              (S > 1 ? " (exactly the model's " + std::to_string(S) + " slices)" : ""));
            if (maps)
                pictures[m.name] = backgrounds(a.values.data(), a.shape[0], a.shape[2], a.shape[3]);
            tensors.emplace(m.name, std::move(a));
        }
        try {
            result = runner.runTensors(tensors, maps);
        } catch (const BadInputError& e) {
            throw BadInputError("", e.what());
        }
    } else {
        std::map<std::string, Image> images;
        for (const auto& m : summary.modalities) {
            images.emplace(m.name, loadImage(sources.at(m.name)));
            if (maps) {
                ModelInputSpec spec;
                spec.height = m.height;
                spec.width = m.width;
                spec.volume = m.kind == "volume";
                spec.slices = m.slices;
                const torch::Tensor x = preprocessForModel(images.at(m.name), spec).contiguous();
                pictures[m.name] = backgrounds(x.data_ptr<float>(), x.size(0), x.size(2), x.size(3));
            }
        }
        result = runner.run(images, maps);
    }

    if (maps) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string dir = *args.value("maps");
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec || !fs::is_directory(dir))
            throw BadInputError(dir, "cannot create the maps folder");
        for (const auto& mr : result.modalities) {
            const bool volume = summary.modalities.end() !=
                                std::find_if(summary.modalities.begin(), summary.modalities.end(),
                                             [&](const ModelSummary::Modality& m) { return m.name == mr.name && m.kind == "volume"; });
            for (const auto& sm : mr.maps) {
                const std::string stem = (fs::path(dir) / (mr.name + "_" + sm.kind)).string();
                std::vector<std::int64_t> shape{sm.gridH, sm.gridW};
                if (volume)
                    shape.insert(shape.begin(), sm.slices);
                writeNpy(stem + ".npy", shape, sm.values.data());
                const auto& pics = pictures[mr.name];
                for (int s = 0; s < sm.slices; ++s)
                    writeMapOverlayPng(volume ? stem + "_s" + std::to_string(s) + ".png" : stem + ".png", sm, s,
                                       s < static_cast<int>(pics.size()) ? pics[static_cast<std::size_t>(s)]
                                                                         : std::vector<float>{});
            }
        }
        result.timingsMs["maps_write"] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }

    nlohmann::json mods = nlohmann::json::array();
    for (const auto& mr : result.modalities) {
        nlohmann::json m{{"name", mr.name}, {"logits", mr.logits}, {"probs", mr.probs}};
        if (result.fusion == "ei")
            m["aux_logits"] = mr.auxLogits;
        if (!mr.sliceIndices.empty())
            m["slice_indices"] = mr.sliceIndices;
        mods.push_back(m);
    }
    const nlohmann::json j{{"device", result.device},
                           {"precision", result.precision},
                           {"fusion", result.fusion},
                           {"classes", result.classes},
                           {"modalities", mods},
                           {"fused", {{"logits", result.fusedLogits}, {"probs", result.fusedProbs}}},
                           {"gate", result.gate},
                           {"timings_ms", result.timingsMs}};
    if (const auto out = args.value("json"))
        writeFileAtomically(*out, j.dump(2) + "\n");
    else
        std::cout << j.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"infer", kSynopsis, "run a model on one study: predictions, gate weights, similarity maps", runInfer});

}  // namespace ei::cli
