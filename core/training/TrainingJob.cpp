// Fine-tuning / evaluation jobs (see TrainingJob.h): the trainer on a checked data set
// (core/training/TrainingDataSet), model files, and the worker thread of the wizard.
#include "core/training/TrainingJob.h"

#include "core/data/Csv.h"
#include "core/data/Manifest.h"
#include "core/training/TrainingDataSet.h"
#include "models/io/AtomicFile.h"
#include "models/ei/EiModel.h"
#include "models/io/EiModelFile.h"
#include "models/Device.h"
#include "models/dist/DataParallel.h"
#include "models/Error.h"
#include "models/Precision.h"
#include "models/io/Safetensors.h"
#include "models/io/Sha256.h"
#include "models/train/Calibration.h"
#include "models/train/Trainer.h"

#include <QMetaObject>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ei {
namespace {

namespace fs = std::filesystem;

std::string nowIso()
{
    const std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

std::vector<std::vector<int>> targetsOf(const std::vector<TrainingExample>& examples)
{
    std::vector<std::vector<int>> targets;
    for (const auto& ex : examples) {
        std::vector<int> t;
        for (int c = 0; c < ex.target.size(0); ++c)
            t.push_back(ex.target[c].item<float>() > 0.5f ? 1 : 0);
        targets.push_back(t);
    }
    return targets;
}

struct ModelEvaluation {
    EvalMetrics metrics;
    std::vector<std::vector<double>> logits, probs;  // fused, per example
};

// A model on prepared examples: the metrics of MODEL.md section 6 on its probabilities
// (AP / AUC ranked on logits with scoreLogits), their calibration before and after
// `scaling` (when not empty), and with `withoutEach` the same split with each modality
// left out in turn, as studies missing it.
ModelEvaluation evaluateModel(const EiModel& model, const std::vector<TrainingExample>& examples,
                              const std::vector<int>& columns, int batchSize, bool scoreLogits,
                              const TemperatureScaling& scaling, bool withoutEach)
{
    const ModelConfig& config = model.config();
    const auto targets = targetsOf(examples);
    auto probabilities = [&](const std::vector<std::vector<double>>& logits) {
        std::vector<std::vector<double>> out;
        for (const auto& row : logits)
            out.push_back(probabilitiesOf(row, config.multilabel));
        return out;
    };
    ModelEvaluation e;
    e.logits = Trainer::predict(model, examples, columns, batchSize, true);
    e.probs = probabilities(e.logits);
    e.metrics = evaluateClassification(scoreLogits ? e.logits : e.probs, e.probs, targets, config.classes, config.multilabel);
    if (!scaling.empty() && !examples.empty())
        e.metrics.calibrated = calibrationSummary(scaling.probabilities(e.logits), targets, config.multilabel);
    if (withoutEach && config.fusion != "unimodal" && config.numModalities() > 1 && !examples.empty())
        for (int k = 0; k < config.numModalities(); ++k) {
            const auto p = probabilities(Trainer::predict(model, examples, columns, batchSize, true, k));
            const EvalMetrics m = evaluateClassification(p, p, targets, config.classes, config.multilabel);
            e.metrics.withoutModality.push_back({config.modalities[static_cast<std::size_t>(k)].name, m.mAP, m.mAUC, m.mS2});
        }
    return e;
}

struct LoadedBackbone {
    std::shared_ptr<VisionTransformer> model;
    nlohmann::json config;
};

LoadedBackbone loadBackbone(const std::string& path, const BackboneConfig& fallback, unsigned seed)
{
    LoadedBackbone out;
    if (path.empty()) {
        torch::manual_seed(seed);
        out.model = std::make_shared<VisionTransformer>(fallback, VisionTransformer::randomWeights(fallback), "random backbone");
    } else {
        out.model = EiModelFile::readBackbone(path);
    }
    out.config = out.model->config().toJson();
    return out;
}

// MODEL.md section 7 model file; the backbone referenced (path relative to the model,
// with its SHA-256) or, without a backbone file, stored inside.
void writeModelFile(const std::string& path, const ModelConfig& config, const std::map<std::string, torch::Tensor>& params,
                    const std::shared_ptr<VisionTransformer>& backbone, const std::string& backbonePath,
                    const nlohmann::json& training, const std::string& intendedUse,
                    const TemperatureScaling& calibration = {})
{
    std::map<std::string, torch::Tensor> cpu;
    for (const auto& [k, v] : params)
        cpu[k] = v.detach().to(torch::kCPU, torch::kFloat).contiguous();
    const EiModel model(config, backbone, cpu, path);
    EiModelWriteOptions options;
    options.backbonePath = backbonePath;
    options.trainingJson = training.dump();
    options.intendedUse = intendedUse;
    if (!calibration.empty())
        options.calibrationJson = calibration.toJson().dump();
    EiModelFile::write(path, model, options);
}

}  // namespace

TrainingReport runTraining(const TrainingRequest& request, const std::function<void(const std::string&)>& onEvent,
                           const JobControl* control)
{
    const std::string configSource = request.configJson.empty() ? request.configPath : std::string("training settings");
    TrainConfig config;
    if (request.configJson.empty()) {
        config = TrainConfig::fromFile(request.configPath);
    } else {
        try {
            config = TrainConfig::fromJson(nlohmann::json::parse(request.configJson), configSource);
        } catch (const nlohmann::json::exception& e) {
            throw BadInputError(configSource, std::string("not valid JSON: ") + e.what());
        }
    }
    if (!request.precision.empty()) {
        parsePrecision(request.precision);  // a bad name is a usage error of the caller
        config.precision = request.precision;
    }

    // The model config: classes from the manifest when the config leaves them out.
    nlohmann::json modelJson = config.model;
    if (!modelJson.contains("modalities") || !modelJson["modalities"].is_array() || modelJson["modalities"].empty())
        throw BadInputError(configSource, "key 'model.modalities' must list the modalities");
    std::vector<std::string> modalityNames;
    for (const auto& m : modelJson["modalities"])
        modalityNames.push_back(m.value("name", ""));
    const bool multilabel = modelJson.value("multilabel", false);
    std::vector<std::string> classes;
    if (modelJson.contains("classes"))
        classes = modelJson["classes"].get<std::vector<std::string>>();
    const std::string fusion = modelJson.value("fusion", "ei");
    if (config.trainBackbone && fusion != "unimodal")
        throw BadInputError(configSource, "key 'train_backbone' needs model.fusion \"unimodal\" (the EI backbone stays frozen)");
    int unimodalColumn = 0;
    if (fusion == "unimodal") {
        const std::string chosen = config.modality.empty() ? modalityNames.at(0) : config.modality;
        const auto it = std::find(modalityNames.begin(), modalityNames.end(), chosen);
        if (it == modalityNames.end())
            throw BadInputError(configSource, "key 'modality': '" + chosen + "' is not one of model.modalities");
        unimodalColumn = static_cast<int>(it - modalityNames.begin());
    }

    // A data-parallel run: meet the other ranks first, so that a rank that cannot start
    // is known before anyone reads the data. Rank 0 alone writes into the run folder.
    std::shared_ptr<Distributed> dist;
    if (request.distributed.enabled()) {
        checkGlobalBatch(config.batchSize, request.distributed.worldSize, configSource);
        const std::string device = config.device == "auto" ? (torch::cuda::is_available() ? "cuda" : "cpu") : config.device;
        dist = Distributed::connect(request.distributed, rankDevice(torch::Device(device), request.distributed.localRank));
    }
    const bool main = !dist || dist->isMain();

    if (control)
        control->checkpoint(0.0, "checking the data set");
    const Manifest manifest = checkedManifest(request.manifestPath, modalityNames, classes, multilabel, {"train", "val"}, dist.get());
    if (classes.empty())
        modelJson["classes"] = manifest.classes();
    BackboneConfig fallbackBackbone = BackboneConfig::fromJson(modelJson.value("backbone", nlohmann::json::object()),
                                                               configSource, "model.backbone.");
    const auto backbone = loadBackbone(request.backbonePath, fallbackBackbone, config.seed);
    modelJson["backbone"] = backbone.config;
    // full: every listed modality (the example columns); modelConfig: what is trained.
    // A unimodal config holds one modality; the listed columns are parsed as "late".
    nlohmann::json fullJson = modelJson;
    if (fusion == "unimodal" && modalityNames.size() > 1)
        fullJson["fusion"] = "late";
    ModelConfig full = ModelConfig::fromJson(fullJson, configSource);
    ModelConfig modelConfig = full;
    if (fusion == "unimodal") {
        modelConfig.fusion = "unimodal";
        modelConfig.modalities = {full.modalities[unimodalColumn]};
    }

    const fs::path checkpoint = fs::path(request.outDir) / "checkpoint.safetensors";
    if (main) {
        if (!request.resume && fs::exists(checkpoint))
            throw BadInputError(checkpoint.string(), "the run folder already holds a run; use --resume or another --out");
        std::error_code ec;
        fs::create_directories(request.outDir, ec);
        if (ec)
            throw BadInputError(request.outDir, "cannot create the run folder: " + ec.message());
        writeFileAtomically((fs::path(request.outDir) / "train_config.json").string(), config.toJson().dump(2) + "\n");
    }

    std::vector<int> columns;
    for (int m = 0; m < static_cast<int>(modalityNames.size()); ++m)
        if (fusion != "unimodal" || m == unimodalColumn)
            columns.push_back(m);
    // Example columns follow the manifest's (= the listed modalities') order.
    const TrainingData trainingData = trainingDataOf(manifest, full, columns, dist.get());

    // Progress for task lists: stages in equal parts, each by iterations against its
    // most epochs (early stopping may end a stage sooner; the bar then jumps).
    struct { int stage = 0, stages = 1; double iterations = 1; } at;
    const auto progress = [&](const nlohmann::json& e) {
        const std::string kind = e.value("event", "");
        if (kind == "stage_start") {
            at.stage = e.value("stage_index", 0);
            at.stages = std::max(1, e.value("stages", 1));
            const bool firstStages = at.stage < at.stages - 1 && config.stage1MaxEpochs > 0;
            at.iterations = std::max(1.0, e.value("iterations_per_epoch", 1.0) * (firstStages ? config.stage1MaxEpochs : config.maxEpochs));
        }
        if (control && (kind == "stage_start" || kind == "step")) {
            const double inStage = std::min(1.0, e.value("iteration", 0.0) / at.iterations);
            control->report((at.stage + inStage) / at.stages, "stage " + std::to_string(at.stage + 1) + " of " +
                                                                  std::to_string(at.stages) + ": " + e.value("stage", ""));
        }
    };
    Trainer trainer(config, modelConfig, backbone.model, request.outDir, unimodalColumn);
    trainer.setResumeOnOtherData(request.resumeOnOtherData);
    trainer.setDistributed(dist);
    if (request.dataCacheMb >= 0)
        trainer.setDataCacheBytes(static_cast<std::size_t>(request.dataCacheMb) << 20);
    const auto outcome = trainer.run(
        trainingData, request.resume,
        [&](const nlohmann::json& e) {
            progress(e);
            if (onEvent)
                onEvent(e.dump());
        },
        control);
    if (!main)
        return {};  // rank 0 evaluates and writes the model

    // Final metrics of the best model on val and test.
    EiModel model(outcome.config, backbone.model, outcome.parameters, "trained model");
    // Temperature scaling fitted on the validation split (the split that chose the
    // epoch, never the test split), then every split evaluated with and without it. The
    // validation examples are those the trainer validated on: column c prepared as `full`
    // reads its modality c, which is how the trained model reads it too.
    const std::vector<TrainingExample>& valExamples = trainingData.val;
    TemperatureScaling calibration;
    if (config.calibrate && !valExamples.empty()) {
        if (control)
            control->checkpoint(1.0, "calibrating on the validation split");
        calibration = fitTemperature(Trainer::predict(model, valExamples, columns, config.batchSize, true),
                                     targetsOf(valExamples), outcome.config.multilabel, outcome.config.classes);
        calibration.split = "val";
    }
    auto evaluate = [&](const std::vector<TrainingExample>& examples) {
        return examples.empty() ? EvalMetrics{}
                                : evaluateModel(model, examples, columns, config.batchSize, false, calibration, true).metrics;
    };
    TrainingReport report;
    report.val = evaluate(valExamples);
    report.test = evaluate(preparedExamples(manifest, "test", full, columns));
    report.calibration = calibration;

    nlohmann::json summary = outcome.summary;
    summary["metrics"] = {{"val", report.val.toJson()}, {"test", report.test.n ? report.test.toJson() : nlohmann::json(nullptr)}};
    summary["calibration"] = calibration.empty() ? nlohmann::json(nullptr) : calibration.toJson();
    nlohmann::json training{{"dataset_fingerprint", Sha256::ofFile(request.manifestPath)},
                            {"dataset_counts", manifest.splitCounts()},
                            {"metrics", summary["metrics"]},
                            {"summary", outcome.summary},
                            {"train_config", config.toJson()},
                            {"date", nowIso()},
                            {"software_version", EIVIEW_VERSION_STRING}};
    const fs::path out(request.outDir);
    report.modelPath = (out / "model.eimodel").string();
    backbone.model->to(torch::kCPU);
    writeModelFile(report.modelPath, outcome.config, outcome.parameters, backbone.model, request.backbonePath, training,
                   config.intendedUse, calibration);
    // The stage-1 models are the unimodal baselines of the same run.
    if (fusion != "unimodal") {
        const auto file = readSafetensors((out / "checkpoint.safetensors").string());
        for (int m = 0; m < modelConfig.numModalities(); ++m) {
            ModelConfig uni = modelConfig;
            uni.fusion = "unimodal";
            uni.modalities = {modelConfig.modalities[m]};
            const std::string prefix = "done/stage1:" + modelConfig.modalities[m].name + "/";
            std::map<std::string, torch::Tensor> params;
            for (const auto& [k, v] : file.tensors)
                if (k.compare(0, prefix.size(), prefix) == 0)
                    params[k.substr(prefix.size())] = v;
            nlohmann::json t = training;
            t["metrics"] = nullptr;
            t["stage"] = "stage1:" + modelConfig.modalities[m].name;
            writeModelFile((out / ("stage1_" + modelConfig.modalities[m].name + ".eimodel")).string(), uni, params,
                           backbone.model, request.backbonePath, t, config.intendedUse);
        }
    }
    if (config.trainBackbone) {
        EiModelFile::writeBackbone((out / "backbone.safetensors").string(), *backbone.model);
    }
    report.summaryJson = summary.dump(2);
    writeFileAtomically((out / "metrics.json").string(), report.summaryJson + "\n");
    if (onEvent)
        onEvent(nlohmann::json{{"event", "saved"}, {"model", report.modelPath},
                               {"val_mAP", report.val.mAP ? nlohmann::json(*report.val.mAP) : nlohmann::json(nullptr)},
                               {"test_mAP", report.test.mAP ? nlohmann::json(*report.test.mAP) : nlohmann::json(nullptr)}}
                    .dump());
    return report;
}

namespace {

// A model on the device and precision asked for, and one split of a manifest prepared for it.
struct ModelOnSplit {
    LoadedEiModel loaded;
    Manifest manifest;
    std::vector<int> columns;
    std::vector<TrainingExample> examples;
};

ModelOnSplit modelOnSplit(const EvaluationRequest& request, const JobControl* control)
{
    if (control)
        control->checkpoint(0.0, "loading the model");
    ModelOnSplit s;
    s.loaded = EiModelFile::read(request.modelPath);
    const ModelConfig& config = s.loaded.model->config();
    s.loaded.model->to(resolveDevice(request.device));
    s.loaded.model->setPrecision(parsePrecision(request.precision));
    std::vector<std::string> names;
    for (const auto& m : config.modalities)
        names.push_back(m.name);
    if (control)
        control->checkpoint(0.1, "checking the data set");
    s.manifest = checkedManifest(request.manifestPath, names, config.classes, config.multilabel, {request.split});
    for (int m = 0; m < config.numModalities(); ++m)
        s.columns.push_back(m);
    s.examples = preparedExamples(s.manifest, request.split, config, s.columns);
    if (control)
        control->checkpoint(0.3, "predicting");
    return s;
}

}  // namespace

CalibrationRun calibrateModel(const EvaluationRequest& request, const std::string& outPath, const JobControl* control)
{
    const ModelOnSplit s = modelOnSplit(request, control);
    const ModelConfig& config = s.loaded.model->config();
    if (s.examples.empty())
        throw BadInputError(request.manifestPath, "the " + request.split + " split is empty: nothing to calibrate on");
    CalibrationRun run;
    run.scaling = fitTemperature(Trainer::predict(*s.loaded.model, s.examples, s.columns, 8, true), targetsOf(s.examples),
                                 config.multilabel, config.classes);
    run.scaling.split = request.split;
    run.metrics = evaluateModel(*s.loaded.model, s.examples, s.columns, 8, false, run.scaling, false).metrics;
    // The same tensors with the new metadata; a referenced backbone re-anchored to the
    // new file's folder. The source file is never changed.
    SafetensorsFile file = readSafetensors(request.modelPath);
    file.metadata["calibration"] = run.scaling.toJson().dump();
    if (const auto it = file.metadata.find("backbone_file"); it != file.metadata.end()) {
        const fs::path backbone = fs::absolute(fs::path(request.modelPath).parent_path() / it->second);
        it->second = fs::relative(backbone, fs::absolute(fs::path(outPath)).parent_path()).generic_string();
    }
    writeSafetensors(outPath, file.tensors, file.metadata);
    return run;
}

EvalMetrics runEvaluation(const EvaluationRequest& request, const JobControl* control)
{
    const ModelOnSplit s = modelOnSplit(request, control);
    const LoadedEiModel& loaded = s.loaded;
    const ModelConfig& config = loaded.model->config();
    const auto& columns = s.columns;
    const auto& examples = s.examples;
    const TemperatureScaling calibration =
        TemperatureScaling::fromMetadata(loaded.metadata, config.classes.size(), config.multilabel, request.modelPath);
    const ModelEvaluation evaluation =
        evaluateModel(*loaded.model, examples, columns, 8, request.scoreLogits, calibration, true);
    const auto& probs = evaluation.probs;
    const auto& metrics = evaluation.metrics;
    if (!request.predictionsPath.empty()) {
        std::ostringstream csv;
        csv << "id";
        for (const auto& c : config.classes)
            csv << ',' << csvField(c);
        csv << ",label\n";
        csv.precision(6);
        const auto rows = s.manifest.split(request.split);
        for (std::size_t i = 0; i < rows.size(); ++i) {
            csv << csvField(rows[i]->id);
            for (double p : probs[i])
                csv << ',' << std::fixed << p;
            std::string labels;
            for (std::size_t k = 0; k < rows[i]->labels.size(); ++k)
                labels += (k ? ";" : "") + rows[i]->labels[k];
            csv << ',' << csvField(labels) << '\n';
        }
        writeFileAtomically(request.predictionsPath, csv.str());
    }
    return metrics;
}

std::string describeBackbone(const std::string& path)
{
    return EiModelFile::readBackboneConfig(path).toJson().dump();
}

TrainingJob::TrainingJob(QObject* parent) : WorkerQueue(parent) {}

TrainingJob::~TrainingJob()
{
    setPaused(false);  // a paused worker would never reach its cancel checkpoint
    shutdown();
}

void TrainingJob::waitWhilePaused(const JobControl& control)
{
    std::unique_lock<std::mutex> lock(pauseMutex_);
    pauseChanged_.wait(lock, [&] { return !paused_ || control.cancelled(); });
}

void TrainingJob::setPaused(bool paused)
{
    {
        std::lock_guard<std::mutex> lock(pauseMutex_);
        paused_ = paused;
    }
    pauseChanged_.notify_all();
    if (ticket_)
        updateStatus(ticket_, [paused](JobStatus& s) { s.message = paused ? tr("paused") : tr("resumed"); });
}

void TrainingJob::cancel(quint64 ticket)
{
    WorkerQueue::cancel(ticket);
    pauseChanged_.notify_all();
}

void TrainingJob::cancelAll()
{
    WorkerQueue::cancelAll();
    pauseChanged_.notify_all();
}

void TrainingJob::cancel()
{
    if (ticket_)
        cancel(ticket_);
}

quint64 TrainingJob::start(const TrainingRequest& request)
{
    if (isRunning())
        return ticket_;
    ticket_ = submit(tr("Fine-tuning"), [this, request](const JobControl& control) -> Deliver {
        // Events cross to the GUI thread queued; pausing blocks the worker between
        // iterations (the event callback runs after every step).
        const auto onEvent = [this, &control](const std::string& line) {
            const QString text = QString::fromStdString(line);
            QMetaObject::invokeMethod(this, [this, text] { Q_EMIT eventReceived(text); }, Qt::QueuedConnection);
            waitWhilePaused(control);
        };
        const auto report = runTraining(request, onEvent, &control);
        const QString model = QString::fromStdString(report.modelPath), summary = QString::fromStdString(report.summaryJson);
        return [this, model, summary](quint64) { Q_EMIT finished(model, summary); };
    });
    return ticket_;
}

}  // namespace ei
