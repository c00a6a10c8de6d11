// `eiview-cli infer --model MODEL (--input NAME=FILE ... | --input-tensor NAME=X.npy ...)
// [--device auto|cpu|cuda[:k]] [--maps DIR] [--json OUT]`: one study through the same
// core/inference/InferenceRunner as the GUI; JSON of MODEL.md section 8, maps as .npy + PNG.
#include "app/cli/CliCommand.h"

#include "core/io/ImageLoader.h"
#include "core/inference/InferenceRunner.h"
#include "core/inference/Uncertainty.h"
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
    "[--device auto|cpu|cuda[:k]] [--precision auto|fp32|tf32|bf16|fp16] [--maps DIR] [--json OUT] "
    "[--attribution ig --target CLASS [--steps N] [--baseline black|blur]]";

int runInfer(CliArgs& args)
{
    args.parse({"model", "input", "input-tensor", "device", "precision", "maps", "json", "attribution", "target", "steps",
                "baseline"},
               {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const std::string modelPath = args.required("model");
    const auto files = args.values("input");
    const auto tensorFiles = args.values("input-tensor");
    if (files.empty() == tensorFiles.empty())
        throw UsageError("give the inputs either as --input NAME=FILE or as --input-tensor NAME=X.npy (at least one; not both kinds)");
    std::map<std::string, std::string> sources;
    for (const auto& v : files.empty() ? tensorFiles : files) {
        auto [name, file] = CliArgs::splitNameValue(v, files.empty() ? "--input-tensor" : "--input");
        if (!sources.emplace(name, file).second)
            throw UsageError("modality " + name + " given twice");
    }

    // Pixel attributions: checked before the model is read, so a usage error costs nothing.
    const bool attribute = args.has("attribution");
    InferenceRunner::AttributionRequest attribution;
    if (attribute) {
        if (args.valueOr("attribution", "") != "ig")
            throw UsageError("--attribution must be ig (Integrated Gradients)");
        if (!args.has("target"))
            throw UsageError("--attribution ig needs --target CLASS (the class whose fused probability is attributed)");
        if (!args.has("maps"))
            throw UsageError("--attribution ig needs --maps DIR (where NAME_ig.npy goes)");
        attribution.steps = args.intValueOr("steps", 32);
        if (attribution.steps < 1 || attribution.steps > 10000)
            throw UsageError("--steps must lie between 1 and 10000");
        attribution.baseline = args.valueOr("baseline", "black");
        if (attribution.baseline != "black" && attribution.baseline != "blur")
            throw UsageError("--baseline must be black or blur");
    } else {
        for (const char* only : {"target", "steps", "baseline"})
            if (args.has(only))
                throw UsageError(std::string("--") + only + " belongs to --attribution ig");
    }

    InferenceRunner runner(modelPath, args.valueOr("device", "auto"), args.valueOr("precision", "auto"));
    const ModelSummary& summary = runner.summary();
    if (attribute) {  // --target: a class name, or its index
        const std::string target = *args.value("target");
        const auto& classes = summary.classes;
        const auto it = std::find(classes.begin(), classes.end(), target);
        if (it != classes.end()) {
            attribution.targetIndex = static_cast<int>(it - classes.begin());
        } else {
            char* end = nullptr;
            const long k = std::strtol(target.c_str(), &end, 10);
            if (target.empty() || *end != '\0' || k < 0 || k >= static_cast<long>(classes.size()))
                throw UsageError("--target " + target + " is not one of the model's classes");
            attribution.targetIndex = static_cast<int>(k);
        }
    }
    for (const auto& [name, file] : sources) {
        const bool known = std::any_of(summary.modalities.begin(), summary.modalities.end(),
                                       [&](const ModelSummary::Modality& m) { return m.name == name; });
        if (!known)
            throw UsageError("the model has no modality " + name);
    }
    // A modality left out is missing: the model runs without it and the JSON says so.
    // (No --input at all is refused above.)

    const bool maps = args.has("maps");
    std::map<std::string, std::vector<std::vector<float>>> pictures;  // overlay backgrounds
    InferenceResult result;
    AttributionResult attributed;
    if (!tensorFiles.empty()) {
        std::map<std::string, NpyArray> tensors;
        for (const auto& m : summary.modalities) {
            if (!sources.count(m.name))
                continue;
            const std::string& file = sources.at(m.name);
            NpyArray a = readNpy(file);
            const std::int64_t S = m.kind == "volume" ? m.slices : 1;
            if (a.shape.size() != 4 || a.shape[0] != S || a.shape[1] != 3)
                throw BadInputError(file, "input tensor for " + m.name + " must be [" + std::to_string(S) + ",3,H,W]" +
                                              (S > 1 ? " (exactly the model's " + std::to_string(S) + " slices)" : ""));
            if (maps)
                pictures[m.name] = overlayBackgrounds(a.values.data(), a.shape[0], a.shape[2], a.shape[3]);
            tensors.emplace(m.name, std::move(a));
        }
        try {
            result = runner.runTensors(tensors, maps);
            if (attribute)
                attributed = runner.attributeTensors(tensors, attribution);
        } catch (const BadInputError& e) {
            throw BadInputError("", e.what());
        }
    } else {
        std::map<std::string, Image> images;
        for (const auto& m : summary.modalities) {
            if (!sources.count(m.name))
                continue;
            images.emplace(m.name, loadImage(sources.at(m.name)));
            if (maps)
                pictures[m.name] = overlayBackgrounds(images.at(m.name), m);
        }
        result = runner.run(images, maps);
        if (attribute)
            attributed = runner.attribute(images, attribution);
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
        for (const auto& [name, sm] : attributed.maps) {  // NAME_ig.npy: [H, W] or [S, H, W]
            const bool volume = std::any_of(summary.modalities.begin(), summary.modalities.end(),
                                            [&](const ModelSummary::Modality& m) { return m.name == name && m.kind == "volume"; });
            std::vector<std::int64_t> shape{sm.gridH, sm.gridW};
            if (volume)
                shape.insert(shape.begin(), sm.slices);
            writeNpy((fs::path(dir) / (name + "_ig.npy")).string(), shape, sm.values.data());
        }
        result.timingsMs["maps_write"] =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }

    nlohmann::json mods = nlohmann::json::array();
    for (const auto& mr : result.modalities) {
        if (mr.missing)
            continue;
        nlohmann::json m{{"name", mr.name}, {"logits", mr.logits}, {"probs", mr.probs}};
        if (result.fusion == "ei")
            m["aux_logits"] = mr.auxLogits;
        if (!mr.sliceIndices.empty())
            m["slice_indices"] = mr.sliceIndices;
        mods.push_back(m);
    }
    nlohmann::json j{{"device", result.device},
                           {"precision", result.precision},
                           {"fusion", result.fusion},
                           {"classes", result.classes},
                           {"modalities", mods},
                           {"fused", {{"logits", result.fusedLogits}, {"probs", result.fusedProbs}}},
                           {"gate", result.gate},
                           {"timings_ms", result.timingsMs}};
    j["missing"] = result.missing();  // the model's modalities this study ran without
    j["fused"]["probs_uncalibrated"] = result.fusedProbsUncalibrated;
    j["calibration"] = result.calibrated() ? nlohmann::json{{"method", "temperature"},
                                                            {"temperatures", result.temperatures},
                                                            {"split", result.calibrationSplit},
                                                            {"n", result.calibrationStudies}}
                                           : nlohmann::json(nullptr);
    const Uncertainty u = describeUncertainty(result);
    j["gate_entropy"] = u.gateDefined ? nlohmann::json(u.gateEntropy) : nlohmann::json(nullptr);
    if (attribute) {
        nlohmann::json written = nlohmann::json::array();
        for (const auto& [name, sm] : attributed.maps)
            written.push_back(name + "_ig.npy");
        j["attribution"] = {{"method", "integrated_gradients"},
                            {"target", attributed.target},
                            {"target_index", attributed.targetIndex},
                            {"score", "fused probability of the target class (uncalibrated)"},
                            {"steps", attributed.steps},
                            {"baseline", attributed.baseline},
                            {"score_input", attributed.scoreInput},
                            {"score_baseline", attributed.scoreBaseline},
                            {"attribution_sum", attributed.total},
                            {"completeness_gap", attributed.gap},
                            {"converged", attributed.converged()},
                            {"files", written}};
    }
    if (const auto out = args.value("json"))
        writeFileAtomically(*out, j.dump(2) + "\n");
    else
        std::cout << j.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"infer", kSynopsis, "run a model on one study: predictions, gate weights, similarity maps", runInfer});

}  // namespace ei::cli
