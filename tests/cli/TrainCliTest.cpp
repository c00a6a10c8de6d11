// `eiview-cli train` and `eval` on a tiny synthetic set: JSON-lines progress, the run
// folder's files, eval's JSON (MODEL.md section 8) and predictions CSV, and the exit
// codes for a broken manifest (3, every problem with its row) and a missing model.
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <tuple>

#include <nlohmann/json.hpp>

#include <fstream>

namespace {

using ei::test::CliRun;

CliRun runCli(const QStringList& args)
{
    return ei::test::runCliProcess(args);
}

void writeTrainConfig(const QString& path, const std::string& fusion, double modalityDropout = 0.0)
{
    nlohmann::json j{{"model",
                      {{"backbone", {{"patch_size", 16}, {"embed_dim", 32}, {"depth", 2}, {"num_heads", 2}, {"pos_grid", {3, 3}}}},
                       {"modalities", {{{"name", "CFP"}, {"size", {48, 48}}}, {{"name", "OCT"}, {"size", {48, 48}}}}},
                       {"classes", {"lesion", "normal"}},
                       {"fusion", fusion},
                       {"adapter", {{"hidden", 16}}}}},
                     {"max_epochs", 1},
                     {"threads", 1},
                     {"intended_use", "synthetic test model"},
                     {"modality_dropout", modalityDropout}};
    std::ofstream(path.toStdString()) << j.dump(2);
}

// The demo's mAP drops by at least this much with either image missing (measured: see
// docs/training.md).
constexpr double kMissingModalityLoss = 0.15;

QByteArray fileBytes(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TrainCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void trainThenEvaluate()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "16", "--size", "48"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), "ei", 1.0);  // every fusion batch drops a modality
        const auto r = runCli({"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                               "--out", dir.filePath("run")});
        QVERIFY2(r.code == 0, r.err.constData());
        int steps = 0, stages = 0, dropped = 0, fusionSteps = 0;
        for (const auto& line : r.out.split('\n')) {
            if (line.isEmpty())
                continue;
            const auto e = nlohmann::json::parse(line.toStdString());
            steps += e["event"] == "step";
            stages += e["event"] == "stage_start";
            fusionSteps += e["event"] == "step" && e["stage"] == "stage2:ei";
            if (e.contains("dropped")) {  // modality dropout: only in the fusion stage
                QCOMPARE(e["stage"].get<std::string>(), std::string("stage2:ei"));
                QVERIFY(e["dropped"] == "CFP" || e["dropped"] == "OCT");
                ++dropped;
            }
        }
        QCOMPARE(stages, 3);  // CFP, OCT, EI
        QVERIFY(steps >= 3);
        QVERIFY(fusionSteps > 0);
        QCOMPARE(dropped, fusionSteps);
        for (const char* f : {"model.eimodel", "stage1_CFP.eimodel", "stage1_OCT.eimodel", "metrics.json", "progress.jsonl",
                              "checkpoint.safetensors", "train_config.json"})
            QVERIFY2(QFile::exists(dir.filePath("run/") + f), f);

        const auto e = runCli({"eval", "--model", dir.filePath("run/model.eimodel"), "--manifest", dir.filePath("data/manifest.csv"),
                               "--split", "test", "--predictions", dir.filePath("pred.csv")});
        QVERIFY2(e.code == 0, e.err.constData());
        const auto j = nlohmann::json::parse(e.out.toStdString());
        for (const char* key : {"classes", "n", "per_class", "mAP", "mAUC", "mS2", "undefined"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["classes"], nlohmann::json({"lesion", "normal"}));
        QVERIFY(j["per_class"]["AP"].size() == 2);
        // Calibration was fitted on val and is stored: eval reports both, info says so.
        for (const char* key : {"ece", "brier"}) {
            QVERIFY2(j[key]["uncalibrated"].is_number(), key);
            QVERIFY2(j[key]["calibrated"].is_number(), key);
        }
        QCOMPARE(j["reliability"]["calibrated"].size(), std::size_t(15));
        // Each modality left out in turn.
        for (const char* m : {"CFP", "OCT"})
            QVERIFY2(j["without"][m].contains("mAP"), m);
        const auto info = nlohmann::json::parse(runCli({"info", dir.filePath("run/model.eimodel")}).out.toStdString());
        QCOMPARE(info["calibrated"], true);
        QCOMPARE(info["calibration"]["temperatures"].size(), std::size_t(1));
        QCOMPARE(info["calibration"]["split"], "val");
        QVERIFY(info["calibration"]["n"].get<int>() > 0);
        const auto stage1 = nlohmann::json::parse(runCli({"info", dir.filePath("run/stage1_OCT.eimodel")}).out.toStdString());
        QCOMPARE(stage1["calibrated"], false);  // the stage-1 baselines are not calibrated
        QFile pred(dir.filePath("pred.csv"));
        QVERIFY(pred.open(QIODevice::ReadOnly));
        const auto lines = pred.readAll().trimmed().split('\n');
        QCOMPARE(lines[0].trimmed(), QByteArray("id,lesion,normal,label"));
        QCOMPARE(lines.size() - 1, j["n"].get<int>());

        // A stage-1 model evaluates too (unimodal), with --json to a file.
        const auto u = runCli({"eval", "--model", dir.filePath("run/stage1_OCT.eimodel"), "--manifest",
                               dir.filePath("data/manifest.csv"), "--split", "val", "--json", dir.filePath("u.json")});
        QVERIFY2(u.code == 0, u.err.constData());
        QVERIFY(QFile::exists(dir.filePath("u.json")));
    }

    // The shipped demo (resources/demo-trained, scripts/make-demo-model.sh) on studies it
    // never saw: a fresh synthetic set from another seed. It must still need both images
    // and get them right, and say that it is a synthetic demonstration.
    void bundledDemoModelSolvesUnseenSyntheticStudies()
    {
        const QString model = QString(EIVIEW_SOURCE_DIR) + "/resources/demo-trained/demo.eimodel";
        QVERIFY2(QFile::exists(model), "the trained demo model is not in resources/demo-trained");
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "200", "--seed", "4242", "--size", "112"}).code, 0);
        const auto e = runCli({"eval", "--model", model, "--manifest", dir.filePath("data/manifest.csv"), "--split", "test"});
        QVERIFY2(e.code == 0, e.err.constData());
        const auto j = nlohmann::json::parse(e.out.toStdString());
        QCOMPARE(j["n"].get<int>(), 40);
        QVERIFY2(j["mAP"].get<double>() > 0.9, j.dump().c_str());
        const auto info = runCli({"info", model});
        QVERIFY2(info.code == 0, info.err.constData());
        QVERIFY2(info.out.contains("Synthetic demonstration only"), info.out.constData());

        // It needs both images: with either left out it is much worse (docs/training.md
        // has the figures).
        for (const char* m : {"CFP", "OCT"})
            QVERIFY2(j["without"][m]["mAP"].get<double>() < j["mAP"].get<double>() - kMissingModalityLoss, j["without"].dump().c_str());

        // Pixel attributions on the demo study: from a black baseline (which the demo
        // already calls "lesion") the path swings, and 16 steps miss it: the check says so.
        // From the blurred study 64 steps suffice.
        const QString study = QString(EIVIEW_SOURCE_DIR) + "/resources/demo-trained/study/";
        for (const auto& [baseline, steps, converged] : {std::tuple<const char*, const char*, bool>{"black", "16", false},
                                                         std::tuple<const char*, const char*, bool>{"blur", "64", true}}) {
            const auto ig = runCli({"infer", "--model", model, "--input", "CFP=" + study + "cfp.png", "--input",
                                    "OCT=" + study + "oct.png", "--attribution", "ig", "--target", "lesion", "--baseline",
                                    baseline, "--steps", steps, "--maps", dir.filePath(QString("ig-") + baseline)});
            QVERIFY2(ig.code == 0, ig.err.constData());
            const auto a = nlohmann::json::parse(ig.out.toStdString())["attribution"];
            QVERIFY2(a["converged"] == converged, a.dump().c_str());
        }

        // Calibrated into another folder: the referenced backbone is found from there, the
        // source file is untouched, and eval reports the stored calibration.
        const QByteArray before = fileBytes(model);
        QDir().mkpath(dir.filePath("cal"));
        const QString calibrated = dir.filePath("cal/demo.eimodel");
        const auto c = runCli({"calibrate", "--model", model, "--manifest", dir.filePath("data/manifest.csv"), "--out", calibrated});
        QVERIFY2(c.code == 0, c.err.constData());
        const auto cj = nlohmann::json::parse(c.out.toStdString());
        QCOMPARE(cj["split"], "val");
        QVERIFY(cj["calibration"]["temperatures"][0].get<double>() > 0);
        QVERIFY(cj["ece"]["calibrated"].is_number() && cj["ece"]["uncalibrated"].is_number());
        QCOMPARE(fileBytes(model), before);
        const auto ce = runCli({"eval", "--model", calibrated, "--manifest", dir.filePath("data/manifest.csv"), "--split", "test"});
        QVERIFY2(ce.code == 0, ce.err.constData());
        const auto cej = nlohmann::json::parse(ce.out.toStdString());
        QVERIFY(cej["ece"]["calibrated"].is_number());
        QCOMPARE(cej["mAP"], j["mAP"]);  // ranking metrics are those of the uncalibrated model
        QCOMPARE(runCli({"calibrate", "--model", calibrated, "--manifest", dir.filePath("data/manifest.csv"), "--out", calibrated}).code, 2);
    }

    void exitCodesForBadInput()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "8", "--size", "48"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), "late");
        std::ofstream(dir.filePath("bad.csv").toStdString())
            << "id,split,label,CFP,OCT\n1,train,lesion,data/img/s0001_cfp.png,data/img/none.png\n2,val,polyp,data/img/s0002_cfp.png,data/img/s0002_oct.png\n";
        const auto r = runCli({"train", "--manifest", dir.filePath("bad.csv"), "--config", dir.filePath("train.json"), "--out",
                               dir.filePath("run")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("row 2: OCT file 'data/img/none.png' does not exist"), r.err.constData());
        QVERIFY2(r.err.contains("row 3: unknown class 'polyp'"), r.err.constData());
        QCOMPARE(runCli({"train", "--manifest", dir.filePath("bad.csv"), "--out", dir.filePath("run")}).code, 2);
        const auto m = runCli({"eval", "--model", dir.filePath("missing.eimodel"), "--manifest", dir.filePath("data/manifest.csv")});
        QCOMPARE(m.code, 4);
        std::ofstream(dir.filePath("bad.json").toStdString()) << "{\"model\": {}, \"epochs\": 3}";
        QCOMPARE(runCli({"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("bad.json"), "--out",
                         dir.filePath("run2")}).code, 3);
    }
};

EI_REGISTER_TEST(TrainCliTest);
#include "TrainCliTest.moc"
