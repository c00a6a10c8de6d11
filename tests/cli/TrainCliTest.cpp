// `eiview-cli train` and `eval` on a tiny synthetic set: JSON-lines progress, the run
// folder's files, eval's JSON (MODEL.md section 8) and predictions CSV, and the exit
// codes for a broken manifest (3, every problem with its row) and a missing model.
#include "tests/TestRegistry.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

namespace {

struct CliRun {
    int code = -1;
    QByteArray out, err;
};

CliRun runCli(const QStringList& args)
{
    QProcess p;
    p.start(ei::test::cliPath(), args);
    p.waitForFinished(900000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
}

void writeTrainConfig(const QString& path, const std::string& fusion)
{
    nlohmann::json j{{"model",
                      {{"backbone", {{"patch_size", 16}, {"embed_dim", 32}, {"depth", 2}, {"num_heads", 2}, {"pos_grid", {3, 3}}}},
                       {"modalities", {{{"name", "CFP"}, {"size", {48, 48}}}, {{"name", "OCT"}, {"size", {48, 48}}}}},
                       {"classes", {"lesion", "normal"}},
                       {"fusion", fusion},
                       {"adapter", {{"hidden", 16}}}}},
                     {"max_epochs", 1},
                     {"threads", 1},
                     {"intended_use", "synthetic test model"}};
    std::ofstream(path.toStdString()) << j.dump(2);
}

}  // namespace

class TrainCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void trainThenEvaluate()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "16", "--size", "48"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), "ei");
        const auto r = runCli({"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                               "--out", dir.filePath("run")});
        QVERIFY2(r.code == 0, r.err.constData());
        int steps = 0, stages = 0;
        for (const auto& line : r.out.split('\n')) {
            if (line.isEmpty())
                continue;
            const auto e = nlohmann::json::parse(line.toStdString());
            steps += e["event"] == "step";
            stages += e["event"] == "stage_start";
        }
        QCOMPARE(stages, 3);  // CFP, OCT, EI
        QVERIFY(steps >= 3);
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
