// The inference engine behind the GUI and `eiview-cli infer`: loads a .eimodel once,
// preprocesses images (core/study/Preprocess), runs models/ei/EiModel under InferenceMode and
// turns its tensors into the plain InferenceResult.
#include "core/inference/InferenceRunner.h"

#include "core/study/Preprocess.h"
#include "models/Device.h"
#include "models/Precision.h"
#include "models/ei/Attribution.h"
#include "models/ei/GraphedForward.h"
#include "models/io/EiModelFile.h"
#include "models/Error.h"
#include "models/io/Sha256.h"
#include "models/train/Calibration.h"

#include <chrono>

namespace ei {

namespace {

double msSince(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> toVector(const torch::Tensor& t)
{
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

struct InferenceRunner::Private {
    std::shared_ptr<EiModel> model;
    TemperatureScaling calibration;  // the model file's `calibration` (empty: none)
    std::unique_ptr<GraphedForward> graphed;  // CUDA: replays captured forwards
    torch::Device device{torch::kCPU};
    ModelSummary summary;

    InferenceResult run(const std::vector<torch::Tensor>& inputs, bool computeMaps, const JobControl& control,
                        double preprocessMs, std::chrono::steady_clock::time_point t0);
    AttributionResult attribute(const std::vector<torch::Tensor>& inputs, const AttributionRequest& request,
                                const JobControl& control) const;
    // The model's input tensors in config order (undefined = missing): images preprocessed
    // (Preprocess.h), or already preprocessed .npy arrays checked against the model.
    std::vector<torch::Tensor> imageTensors(const std::map<std::string, Image>& inputs, const JobControl& control,
                                            std::vector<std::vector<int>>& sliceIndices) const;
    std::vector<torch::Tensor> npyTensors(const std::map<std::string, NpyArray>& inputs) const;
};

InferenceRunner::InferenceRunner(const std::string& modelPath, const std::string& device,
                                 const std::string& precision)
    : d(std::make_unique<Private>())
{
    configureCpuThreads();
    d->device = resolveDevice(device);
    const Precision requested = parsePrecision(precision);
    resolvePrecision(requested, d->device);  // refuses fp16 on the CPU before the model is read
    LoadedEiModel loaded = EiModelFile::read(modelPath);
    d->model = loaded.model;
    d->model->to(d->device);
    d->model->setPrecision(requested);
    if (d->device.is_cuda()) {
        d->model->warmUp();
        d->graphed = std::make_unique<GraphedForward>(d->model);
    }
    const ModelConfig& c = d->model->config();
    ModelSummary& s = d->summary;
    s.path = modelPath;
    s.family = c.backbone.family;
    s.fusion = c.fusion;
    s.multilabel = c.multilabel;
    s.patchSize = c.backbone.patchSize;
    for (const auto& m : c.modalities)
        s.modalities.push_back({m.name, m.kind, m.size[0], m.size[1], m.slices});
    s.classes = c.classes;
    if (const auto it = loaded.metadata.find("intended_use"); it != loaded.metadata.end())
        s.intendedUse = it->second;
    d->calibration = TemperatureScaling::fromMetadata(loaded.metadata, c.classes.size(), c.multilabel, modelPath);
    s.temperatures = d->calibration.temperatures;
    s.calibrationSplit = d->calibration.split;
    s.calibrationStudies = d->calibration.fittedOn;
    s.fingerprint = Sha256::ofFile(modelPath);
    s.totalParameters = d->model->totalParameterCount();
    s.trainableParameters = d->model->trainableParameterCount();
    s.precision = precisionName(d->model->precision());
}

InferenceRunner::~InferenceRunner() = default;

const ModelSummary& InferenceRunner::summary() const
{
    return d->summary;
}

std::string InferenceRunner::device() const
{
    return deviceName(d->device);
}

std::vector<torch::Tensor> InferenceRunner::Private::imageTensors(const std::map<std::string, Image>& inputs,
                                                                 const JobControl& control,
                                                                 std::vector<std::vector<int>>& sliceIndices) const
{
    const ModelConfig& c = model->config();
    std::vector<torch::Tensor> tensors;
    for (const auto& m : c.modalities) {
        const auto it = inputs.find(m.name);
        if (it == inputs.end()) {  // a missing modality: the model runs without it
            tensors.emplace_back();
            sliceIndices.emplace_back();
            continue;
        }
        control.checkpoint(0.0, m.name + ": preprocessing");
        const ModelInputSpec spec = modelInputSpec(c, static_cast<int>(&m - c.modalities.data()));
        torch::Tensor x = preprocessForModel(it->second, spec);  // [S, 3, H, W]
        tensors.push_back(m.isVolume() ? x.unsqueeze(0) : x);
        sliceIndices.push_back(m.isVolume() && it->second.slices > 1 ? chooseSliceIndices(it->second.slices, m.slices)
                                                                      : std::vector<int>{});
    }
    return tensors;
}

std::vector<torch::Tensor> InferenceRunner::Private::npyTensors(const std::map<std::string, NpyArray>& inputs) const
{
    const ModelConfig& c = model->config();
    std::vector<torch::Tensor> tensors;
    for (const auto& m : c.modalities) {
        const auto it = inputs.find(m.name);
        if (it == inputs.end()) {  // a missing modality
            tensors.emplace_back();
            continue;
        }
        const NpyArray& a = it->second;
        const std::int64_t S = m.isVolume() ? m.slices : 1;
        if (a.shape.size() != 4 || a.shape[0] != S || a.shape[1] != 3 || a.shape[2] < 1 || a.shape[3] < 1) {
            std::string got = "[";
            for (std::size_t i = 0; i < a.shape.size(); ++i)
                got += (i ? "," : "") + std::to_string(a.shape[i]);
            throw BadInputError(m.name, "input tensor has shape " + got + "], the model needs [" + std::to_string(S) +
                                            ",3,H,W]" + (m.isVolume() ? " (exactly " + std::to_string(S) + " slices)" : ""));
        }
        torch::Tensor x = torch::from_blob(const_cast<float*>(a.values.data()), a.shape, torch::kFloat).clone();
        tensors.push_back(m.isVolume() ? x.unsqueeze(0) : x);
    }
    return tensors;
}

InferenceResult InferenceRunner::run(const std::map<std::string, Image>& inputs, bool computeMaps,
                                     const JobControl& control)
{
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<int>> sliceIndices;
    const auto tensors = d->imageTensors(inputs, control, sliceIndices);
    InferenceResult result = d->run(tensors, computeMaps, control, msSince(t0), t0);
    for (std::size_t i = 0; i < result.modalities.size(); ++i)
        result.modalities[i].sliceIndices = sliceIndices[i];
    return result;
}

InferenceResult InferenceRunner::runTensors(const std::map<std::string, NpyArray>& inputs, bool computeMaps,
                                            const JobControl& control)
{
    const auto t0 = std::chrono::steady_clock::now();
    return d->run(d->npyTensors(inputs), computeMaps, control, msSince(t0), t0);
}

AttributionResult InferenceRunner::attribute(const std::map<std::string, Image>& inputs, const AttributionRequest& request,
                                             const JobControl& control)
{
    std::vector<std::vector<int>> sliceIndices;
    return d->attribute(d->imageTensors(inputs, control, sliceIndices), request, control);
}

AttributionResult InferenceRunner::attributeTensors(const std::map<std::string, NpyArray>& tensors,
                                                    const AttributionRequest& request, const JobControl& control)
{
    return d->attribute(d->npyTensors(tensors), request, control);
}

AttributionResult InferenceRunner::Private::attribute(const std::vector<torch::Tensor>& inputs,
                                                      const AttributionRequest& request, const JobControl& control) const
{
    const ModelConfig& c = model->config();
    AttributionOptions options;  // integratedGradients refuses a class outside the model's
    options.targetClass = request.targetIndex;
    options.steps = request.steps;
    options.baseline = request.baseline;
    Attribution a;
    try {
        a = integratedGradients(*model, inputs, options, &control);
    } catch (const Error&) {
        throw;
    } catch (const Cancelled&) {
        throw;
    } catch (const c10::Error& e) {
        throw ModelError(summary.path, std::string("the attribution failed: ") + e.what_without_backtrace());
    }
    AttributionResult r;
    r.target = c.classes[static_cast<std::size_t>(request.targetIndex)];
    r.targetIndex = request.targetIndex;
    r.steps = request.steps;
    r.baseline = request.baseline;
    r.scoreInput = a.scoreInput;
    r.scoreBaseline = a.scoreBaseline;
    r.total = a.total;
    r.gap = a.gap();
    for (std::size_t m = 0; m < c.modalities.size(); ++m) {
        if (!a.maps[m].defined())
            continue;
        const torch::Tensor v = a.maps[m].dim() == 2 ? a.maps[m].unsqueeze(0) : a.maps[m];  // [S, H, W]
        SimilarityMap sm;
        sm.kind = "ig";
        sm.slices = static_cast<int>(v.size(0));
        sm.gridH = sm.inputHeight = static_cast<int>(v.size(1));
        sm.gridW = sm.inputWidth = static_cast<int>(v.size(2));
        sm.patch = 1;
        sm.values = toVector(v);
        r.maps.emplace(c.modalities[m].name, std::move(sm));
    }
    return r;
}

InferenceResult InferenceRunner::Private::run(const std::vector<torch::Tensor>& inputs, bool computeMaps,
                                              const JobControl& control, double preprocessMs,
                                              std::chrono::steady_clock::time_point t0)
{
    // InferenceMode is per thread: set here, on whatever thread runs the job.
    torch::InferenceMode guard;
    const ModelConfig& c = model->config();
    const auto tf = std::chrono::steady_clock::now();
    EiOutputs out;
    try {
        out = graphed ? graphed->run(inputs, computeMaps, &control) : model->forward(inputs, computeMaps, &control);
    } catch (const Error&) {
        throw;
    } catch (const Cancelled&) {
        throw;
    } catch (const c10::Error& e) {
        throw ModelError(summary.path, std::string("the model failed: ") + e.what_without_backtrace());
    }
    const double forwardMs = msSince(tf);

    InferenceResult r;
    r.modelPath = summary.path;
    r.modelFingerprint = summary.fingerprint;
    r.device = deviceName(device);
    r.precision = precisionName(model->precision());
    r.fusion = c.fusion;
    r.multilabel = c.multilabel;
    r.classes = c.classes;
    for (int m = 0; m < c.numModalities(); ++m) {
        const auto mi = static_cast<std::size_t>(m);
        const ModalityConfig& mc = c.modalities[mi];
        ModalityResult mr;
        mr.name = mc.name;
        if (!out.present[mi]) {
            mr.missing = true;
            r.modalities.push_back(std::move(mr));
            continue;
        }
        mr.logits = toVector(out.logits[mi][0]);
        mr.probs = toVector(out.probs[mi][0]);
        if (!out.auxLogits.empty() && out.auxLogits[mi].defined()) {
            mr.auxLogits = toVector(out.auxLogits[mi][0]);
            mr.auxProbs = toVector(out.auxProbs[mi][0]);
        }
        const torch::Tensor& x = inputs[mi];
        for (const EiMap& em : out.maps[mi]) {
            SimilarityMap sm;
            sm.kind = em.kind;
            sm.slices = static_cast<int>(em.values.size(1));
            sm.gridH = static_cast<int>(em.values.size(2));
            sm.gridW = static_cast<int>(em.values.size(3));
            sm.patch = c.backbone.patchSize;
            sm.inputHeight = static_cast<int>(x.size(x.dim() - 2));
            sm.inputWidth = static_cast<int>(x.size(x.dim() - 1));
            sm.values = toVector(em.values[0]);
            mr.maps.push_back(std::move(sm));
        }
        r.modalities.push_back(std::move(mr));
    }
    r.fusedLogits = toVector(out.fused[0]);
    r.fusedProbs = toVector(out.fusedProbs[0]);
    r.fusedProbsUncalibrated = r.fusedProbs;
    if (!calibration.empty()) {
        const std::vector<double> logits(r.fusedLogits.begin(), r.fusedLogits.end());
        const std::vector<double> p = calibration.probabilities(logits);
        r.fusedProbs.assign(p.begin(), p.end());
        r.temperatures = calibration.temperatures;
        r.calibrationSplit = calibration.split;
        r.calibrationStudies = calibration.fittedOn;
    }
    r.gate = toVector(out.gate[0]);
    r.timingsMs["preprocess"] = preprocessMs;
    r.timingsMs["forward"] = forwardMs;
    r.timingsMs["total"] = msSince(t0);
    return r;
}

}  // namespace ei
