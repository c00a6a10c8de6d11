// The trainer end to end on tiny synthetic data sets (a 2-block, width-32 backbone):
// the loss falls and val mAP beats chance on a learnable label; a run interrupted
// mid-epoch and resumed ends with exactly the parameters of an uninterrupted run; the
// schedule follows PyTorch's CyclicLR; manifest problems stop training before it starts.
#include "core/data/SyntheticData.h"
#include "core/training/TrainingJob.h"
#include "models/Error.h"
#include "models/JobControl.h"
#include "models/io/Safetensors.h"
#include "models/train/TrainConfig.h"
#include "models/train/Trainer.h"
#include "tests/TestRegistry.h"
#include "tests/training/InterruptedRun.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace {

nlohmann::json tinyConfig(const std::string& fusion, int epochs)
{
    return {{"model",
             {{"backbone", {{"family", "dinov2"}, {"patch_size", 16}, {"embed_dim", 32}, {"depth", 2}, {"num_heads", 2},
                            {"pos_grid", {4, 4}}, {"num_register_tokens", 0}}},
              {"modalities", {{{"name", "CFP"}, {"size", {64, 64}}}, {{"name", "OCT"}, {"size", {64, 64}}}}},
              {"fusion", fusion},
              {"adapter", {{"hidden", 16}}}}},
            {"seed", 3},
            {"batch_size", 8},
            {"max_epochs", epochs},
            {"patience", 50},
            {"threads", 1}};
}

// A manifest over the synthetic images whose label is the CFP finding alone.
std::string findingsManifest(const QString& dir)
{
    std::ifstream in((dir + "/findings.csv").toStdString());
    std::ostringstream out;
    out << "id,split,label,CFP,OCT\n";
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string id, split, cfp, oct, cfpFile, octFile;
        std::getline(ss, id, ',');
        std::getline(ss, split, ',');
        std::getline(ss, cfp, ',');
        std::getline(ss, oct, ',');
        std::getline(ss, cfpFile, ',');
        std::getline(ss, octFile, ',');
        out << id << ',' << split << ',' << cfp << ',' << cfpFile << ',' << octFile << '\n';
    }
    const std::string path = (dir + "/cfp_findings.csv").toStdString();
    std::ofstream(path) << out.str();
    return path;
}

std::vector<nlohmann::json> readEvents(const QString& runDir)
{
    std::vector<nlohmann::json> out;
    std::ifstream in((runDir + "/progress.jsonl").toStdString());
    std::string line;
    while (std::getline(in, line))
        out.push_back(nlohmann::json::parse(line));
    return out;
}

}  // namespace

class TrainerTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cyclicScheduleFollowsPyTorch()
    {
        ei::TrainConfig c;
        // 10 iterations per epoch: half-cycle 40 iterations.
        QCOMPARE(ei::scheduleAt(c, 0, 10).lr, 1e-5);
        QVERIFY(std::abs(ei::scheduleAt(c, 40, 10).lr - 1e-3) < 1e-12);
        QVERIFY(std::abs(ei::scheduleAt(c, 20, 10).lr - (1e-5 + 0.5 * (1e-3 - 1e-5))) < 1e-12);
        QVERIFY(std::abs(ei::scheduleAt(c, 80, 10).lr - 1e-5) < 1e-12);
        QVERIFY(std::abs(ei::scheduleAt(c, 120, 10).lr - (1e-5 + 0.8 * (1e-3 - 1e-5))) < 1e-12);  // second cycle x0.8
        QCOMPARE(ei::scheduleAt(c, 17, 10).momentum, 0.95);
        c.cycleMomentum = true;
        QVERIFY(std::abs(ei::scheduleAt(c, 40, 10).momentum - 0.8) < 1e-12);
        QVERIFY(std::abs(ei::scheduleAt(c, 0, 10).momentum - 0.9) < 1e-12);
        c.schedule = "cosine";
        QCOMPARE(ei::scheduleAt(c, 0, 10).lr, 0.0);
        QVERIFY(std::abs(ei::scheduleAt(c, 10, 10).lr - 1e-3) < 1e-12);   // end of warm-up
        QVERIFY(std::abs(ei::scheduleAt(c, 500, 10).lr - 1e-7) < 1e-12);  // 50 epochs
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::TrainConfig::fromJson({{"model", nlohmann::json::object()}, {"sedd", 1}}, "t.json"));
    }

    void shortRunLearnsALearnableLabel()
    {
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.studies = 64;
        o.size = 64;
        ei::writeSyntheticDataset(dir.filePath("data").toStdString(), o);
        auto config = tinyConfig("unimodal", 8);
        config["modality"] = "CFP";
        config["optimizer"] = {{"max_lr", 0.05}};
        config["schedule"] = {{"kind", "cosine"}, {"cosine_epochs", 8}};
        config["augment"] = {{"rotation", false}, {"edge_crop", false}};
        ei::TrainingRequest request;
        request.manifestPath = findingsManifest(dir.filePath("data"));
        request.configJson = config.dump();
        request.outDir = dir.filePath("run").toStdString();
        const auto report = ei::runTraining(request, {});
        const auto events = readEvents(dir.filePath("run"));
        std::vector<double> epochLoss;
        double firstMap = -1;
        for (const auto& e : events)
            if (e["event"] == "validation") {
                if (e["epoch"] == 0)
                    firstMap = e["val_mAP"].get<double>();
                else
                    epochLoss.push_back(e["train_loss"].get<double>());
            }
        QVERIFY(epochLoss.size() >= 4);
        QVERIFY2(epochLoss.back() < epochLoss.front(), qPrintable(QString("loss %1 -> %2").arg(epochLoss.front()).arg(epochLoss.back())));
        QVERIFY2(*report.val.mAP > 0.75, qPrintable(QString("val mAP %1 (before training %2)").arg(*report.val.mAP).arg(firstMap)));
        QVERIFY(QFile::exists(dir.filePath("run/model.eimodel")));
        const auto meta = ei::readSafetensorsMetadata(dir.filePath("run/model.eimodel").toStdString());
        QCOMPARE(meta.at("format"), std::string("eiview-model"));
        const auto training = nlohmann::json::parse(meta.at("training"));
        QVERIFY(training.contains("dataset_fingerprint"));
        QVERIFY(training["metrics"]["val"]["mAP"].is_number());
        // A finished run refuses a fresh start in the same folder.
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::runTraining(request, {}));
    }

    void optimizerStepsFollowTheirFormulas()
    {
        ei::TrainConfig c;
        ei::ScheduleValue s;
        s.lr = 0.1;
        s.momentum = 0.9;
        c.weightDecay = 0.01;
        // SGD: buf = g + wd p; then buf = momentum buf + g + wd p.
        auto p = torch::tensor({1.0f, -2.0f});
        const auto g = torch::tensor({0.5f, 0.25f});
        torch::Tensor first, second;
        ei::optimizerStep(c, s, 1, p, g, first, second);
        QVERIFY(torch::allclose(p, torch::tensor({1.0f - 0.1f * 0.51f, -2.0f - 0.1f * 0.23f})));
        ei::optimizerStep(c, s, 2, p, g, first, second);
        const float b0 = 0.9f * 0.51f + 0.5f + 0.01f * (1.0f - 0.051f);
        QVERIFY(torch::allclose(p.select(0, 0), torch::tensor(1.0f - 0.051f - 0.1f * b0)));
        QVERIFY(!second.defined());
        // AdamW, constant gradient: the bias-corrected step is lr * g / (|g| + eps) at every
        // step, after the decoupled decay p *= 1 - lr wd (torch.optim.AdamW's order).
        c.optimizer = "adamw";
        c.beta2 = 0.999;
        c.adamEps = 1e-8;
        p = torch::tensor({1.0f, -2.0f});
        first = second = torch::Tensor();
        ei::optimizerStep(c, s, 1, p, g, first, second);
        const float e0 = 1.0f * (1 - 0.001f) - 0.1f, e1 = -2.0f * (1 - 0.001f) - 0.1f;
        QVERIFY(torch::allclose(p, torch::tensor({e0, e1}), 1e-6, 1e-6));
        ei::optimizerStep(c, s, 2, p, g, first, second);
        QVERIFY(torch::allclose(p, torch::tensor({e0 * (1 - 0.001f) - 0.1f, e1 * (1 - 0.001f) - 0.1f}), 1e-6, 1e-6));
        QVERIFY(torch::allclose(second, (1 - 0.999 * 0.999) * g * g));
        // The multi-tensor step is the same arithmetic, element for element, over many
        // parameters at once; a parameter without state yet (its first gradient) among
        // others that have one starts its state as the single step does.
        for (const std::string kind : {"sgd", "adamw"}) {
            c.optimizer = kind;
            torch::manual_seed(8);
            std::vector<torch::Tensor> one, many, oneFirst(3), oneSecond(3), manyFirst(3), manySecond(3);
            for (int i = 0; i < 3; ++i) {
                one.push_back(torch::randn({5, 4 + i}));
                many.push_back(one.back().clone());
            }
            for (long long k = 1; k <= 3; ++k) {
                std::vector<ei::OptimizerSlot> slots;
                for (int i = 0; i < 3; ++i) {
                    if (k == 1 && i == 2)
                        continue;  // no gradient in the first step
                    const torch::Tensor grad = torch::randn(one[static_cast<std::size_t>(i)].sizes());
                    ei::optimizerStep(c, s, k, one[i], grad, oneFirst[i], oneSecond[i]);
                    slots.push_back({&many[i], grad, &manyFirst[i], &manySecond[i]});
                }
                ei::optimizerSteps(c, s, k, slots);
            }
            for (int i = 0; i < 3; ++i) {
                QVERIFY2(torch::equal(one[i], many[i]), qPrintable(QString::fromStdString(kind)));
                QVERIFY(torch::equal(oneFirst[i], manyFirst[i]));
                QCOMPARE(oneSecond[i].defined(), manySecond[i].defined());
                if (oneSecond[i].defined())
                    QVERIFY(torch::equal(oneSecond[i], manySecond[i]));
            }
        }
        // Its keys are checked.
        const auto withOptimizer = [](const nlohmann::json& o) {
            return ei::TrainConfig::fromJson({{"model", nlohmann::json::object()}, {"optimizer", o}}, "t.json");
        };
        QCOMPARE(withOptimizer({{"kind", "adamw"}, {"beta2", 0.99}}).beta2, 0.99);
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, withOptimizer({{"kind", "adam"}}));
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, withOptimizer({{"kind", "adamw"}, {"eps", 0}}));
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, withOptimizer({{"beta2", 1.0}}));
    }

    void resumeGivesTheSameResultAsAnUninterruptedRun_data()
    {
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<QString>("precision");
        QTest::newRow("sgd") << "sgd" << "fp32";
        QTest::newRow("adamw") << "adamw" << "fp32";  // its second-moment state goes through the checkpoint too
        QTest::newRow("sgd bf16") << "sgd" << "bf16";  // a reduced precision resumes exactly as well
    }

    void resumeGivesTheSameResultAsAnUninterruptedRun()
    {
        QFETCH(QString, optimizer);
        QFETCH(QString, precision);
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.studies = 24;
        o.size = 64;
        ei::writeSyntheticDataset(dir.filePath("data").toStdString(), o);
        auto config = tinyConfig("ei", 2);
        config["optimizer"] = {{"kind", optimizer.toStdString()}};
        config["precision"] = precision.toStdString();
        ei::TrainingRequest request;
        request.manifestPath = dir.filePath("data/manifest.csv").toStdString();
        request.configJson = config.dump();
        request.outDir = dir.filePath("full").toStdString();
        ei::runTraining(request, {});

        // Interrupt inside the second epoch of stage 2, then resume.
        std::atomic<bool> cancel{false};
        ei::JobControl control;
        control.cancelFlag = &cancel;
        request.outDir = dir.filePath("split").toStdString();
        QVERIFY_THROWS_EXCEPTION(ei::Cancelled, ei::runTraining(request, [&](const std::string& line) {
            const auto e = nlohmann::json::parse(line);
            if (e["event"] == "step" && e["stage"] == "stage2:ei" && e["epoch"] == 2)
                cancel = true;
        }, &control));
        QVERIFY(!QFile::exists(dir.filePath("split/model.eimodel")));
        request.resume = true;
        ei::runTraining(request, {});

        const auto a = ei::readSafetensors(dir.filePath("full/model.eimodel").toStdString());
        const auto b = ei::readSafetensors(dir.filePath("split/model.eimodel").toStdString());
        QCOMPARE(a.tensors.size(), b.tensors.size());
        for (const auto& [name, t] : a.tensors)
            QVERIFY2(torch::equal(t, b.tensors.at(name)), name.c_str());
        // The gate and adapters did train (stage 2 ran), and the progress logs agree.
        const auto ea = readEvents(dir.filePath("full")), eb = readEvents(dir.filePath("split"));
        std::vector<double> la, lb;
        for (const auto& e : ea)
            if (e["event"] == "step")
                la.push_back(e["loss"].get<double>());
        for (const auto& e : eb)
            if (e["event"] == "step")
                lb.push_back(e["loss"].get<double>());
        QCOMPARE(la, lb);
        QVERIFY(QFile::exists(dir.filePath("split/stage1_CFP.eimodel")));
        for (const auto& e : ea)
            if (e["event"] == "stage_start")
                QCOMPARE(QString::fromStdString(e["precision"].get<std::string>()), precision);
    }

    void resumeRefusesAnotherDataSetOrABrokenCheckpoint()
    {
        // Issue 12, #9 / #12: resuming with another manifest was accepted; a checkpoint
        // without its state ended in "map::at".
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.studies = 24;
        o.size = 64;
        ei::writeSyntheticDataset(dir.filePath("a").toStdString(), o);
        o.seed += 1;
        ei::writeSyntheticDataset(dir.filePath("b").toStdString(), o);
        ei::TrainingRequest request;
        request.manifestPath = dir.filePath("a/manifest.csv").toStdString();
        request.configJson = tinyConfig("late", 2).dump();
        request.outDir = dir.filePath("run").toStdString();
        ei::test::interruptedRun(request);
        if (QTest::currentTestFailed())
            return;
        request.resume = true;
        request.manifestPath = dir.filePath("b/manifest.csv").toStdString();
        try {
            ei::runTraining(request, {});
            QFAIL("resumed on another data set");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("another data set") && QString(e.what()).contains("checkpoint.safetensors"), e.what());
        }
        // Asked for: it goes on.
        request.resumeOnOtherData = true;
        ei::runTraining(request, {});
        QVERIFY(QFile::exists(dir.filePath("run/model.eimodel")));

        // A checkpoint with a flipped bit in its tensor data does not resume (issue 12, #9).
        const QString flipped = dir.filePath("flipped");
        QVERIFY(QDir().mkpath(flipped));
        {
            QFile src(dir.filePath("run/checkpoint.safetensors"));
            QVERIFY(src.open(QIODevice::ReadOnly));
            QByteArray bytes = src.readAll();
            bytes[bytes.size() - 9] = static_cast<char>(bytes[bytes.size() - 9] ^ 0x04);
            QFile dst(flipped + "/checkpoint.safetensors");
            QVERIFY(dst.open(QIODevice::WriteOnly));
            dst.write(bytes);
        }
        request.outDir = flipped.toStdString();
        request.manifestPath = dir.filePath("a/manifest.csv").toStdString();
        try {
            ei::runTraining(request, {});
            QFAIL("resumed from a damaged checkpoint");
        } catch (const ei::ModelError& e) {
            QVERIFY2(QString(e.what()).contains("SHA-256 digest"), e.what());
        }

        // A checkpoint that holds no training state.
        const QString broken = dir.filePath("broken");
        QVERIFY(QDir().mkpath(broken));
        auto ckpt = ei::readSafetensors(dir.filePath("run/checkpoint.safetensors").toStdString());
        ckpt.metadata.erase("state");
        ei::writeSafetensors((broken + "/checkpoint.safetensors").toStdString(), ckpt.tensors, ckpt.metadata);
        request.outDir = broken.toStdString();
        request.resumeOnOtherData = false;
        try {
            ei::runTraining(request, {});
            QFAIL("resumed from a checkpoint without state");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("not a resumable checkpoint"), e.what());
        }
    }

    void threeViewKneeVolumesTrainWithEarlyIntervention()
    {
        // M = 3 volume modalities (MRNet-style .npy) through both stages of `ei`.
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.kind = "knee";
        o.studies = 16;
        o.size = 48;
        o.slices = 8;
        const auto summary = ei::writeSyntheticDataset(dir.filePath("knee").toStdString(), o);
        QCOMPARE(summary.modalities, (std::vector<std::string>{"SAG", "COR", "AX"}));
        auto config = tinyConfig("ei", 1);
        config["model"]["modalities"] = nlohmann::json::array();
        for (const char* view : {"SAG", "COR", "AX"})
            config["model"]["modalities"].push_back({{"name", view}, {"kind", "volume"}, {"size", {48, 48}}, {"slices", 4}});
        config["model"]["backbone"]["pos_grid"] = {3, 3};
        ei::TrainingRequest request;
        request.manifestPath = summary.manifestPath;
        request.configJson = config.dump();
        request.outDir = dir.filePath("run").toStdString();
        const auto report = ei::runTraining(request, {});
        QVERIFY(report.val.mAP.has_value());
        for (const char* view : {"SAG", "COR", "AX"})
            QVERIFY(QFile::exists(dir.filePath(QStringLiteral("run/stage1_%1.eimodel").arg(view))));
        const auto meta = ei::readSafetensorsMetadata(dir.filePath("run/model.eimodel").toStdString());
        const auto model = nlohmann::json::parse(meta.at("config"));
        QCOMPARE(model["modalities"].size(), std::size_t(3));
        QCOMPARE(model["modalities"][2]["kind"].get<std::string>(), std::string("volume"));
        QCOMPARE(model["fusion"].get<std::string>(), std::string("ei"));
    }

    void manifestProblemsStopTrainingBeforeItStarts()
    {
        QTemporaryDir dir;
        std::ofstream((dir.filePath("m.csv")).toStdString()) << "id,split,label,CFP,OCT\n1,train,lesion,nope.png,nope2.png\n";
        ei::TrainingRequest request;
        request.manifestPath = dir.filePath("m.csv").toStdString();
        request.configJson = tinyConfig("ei", 1).dump();
        request.outDir = dir.filePath("run").toStdString();
        try {
            ei::runTraining(request, {});
            QFAIL("trained on a broken manifest");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            const std::string what = e.what();
            QVERIFY2(what.find("row 2: CFP file 'nope.png' does not exist") != std::string::npos, e.what());
            QVERIFY2(what.find("split 'val' has no usable study") != std::string::npos, e.what());
        }
        QVERIFY(!QFile::exists(dir.filePath("run/checkpoint.safetensors")));
    }
};

EI_REGISTER_TEST(TrainerTest);
#include "TrainerTest.moc"
