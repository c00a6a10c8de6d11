// Data-parallel training on c10d (issue 17) with real processes on loopback (Gloo):
// 2 ranks with batch 4 each give the model of 1 rank with batch 8; a rank killed in the
// middle ends the run on the other rank with a clear message and the last checkpoint
// resumes on 2 ranks to the same model; a rank that stops answering ends the run within
// the timeout; a batch that does not divide among the ranks is refused at once.
#include "tests/LoopbackPorts.h"
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"

#include "tests/CsvFile.h"
#include "tests/ProcessSignal.h"
#include "models/io/Safetensors.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <memory>

namespace {

quint16 freePort()
{
    return static_cast<quint16>(ei::test::freeLoopbackPort());
}

// A rank of `eiview-cli ARGS`, launched as torchrun would (environment variables).
std::unique_ptr<QProcess> startRank(const QStringList& args, int rank, int worldSize, quint16 port)
{
    auto p = std::make_unique<QProcess>();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(port));
    env.insert("WORLD_SIZE", QString::number(worldSize));
    env.insert("RANK", QString::number(rank));
    env.insert("LOCAL_RANK", QString::number(rank));
    env.insert("OMP_NUM_THREADS", "1");
    p->setProcessEnvironment(env);
    p->start(ei::test::cliPath(), args);
    p->waitForStarted();
    return p;
}

using Finished = ei::test::CliRun;

Finished finish(QProcess& p, int ms = 600000) { return ei::test::finishCli(p, ms); }

Finished runCli(const QStringList& args) { return ei::test::runCliProcess(args); }

void writeTrainConfig(const QString& path, int batchSize, int epochs)
{
    nlohmann::json j{{"model",
                      {{"backbone", {{"patch_size", 16}, {"embed_dim", 32}, {"depth", 2}, {"num_heads", 2}, {"pos_grid", {2, 2}}}},
                       {"modalities", {{{"name", "CFP"}, {"size", {32, 32}}}, {{"name", "OCT"}, {"size", {32, 32}}}}},
                       {"classes", {"lesion", "normal"}},
                       {"adapter", {{"hidden", 8}}}}},
                     {"batch_size", batchSize},
                     {"max_epochs", epochs},
                     {"patience", 100},
                     {"threads", 1},
                     {"seed", 11},
                     {"modality_dropout", 0.3},
                     {"calibrate", false}};
    std::ofstream(path.toStdString()) << j.dump(2);
}

// Largest |a - b| over the tensors of two model files (infinity when they differ in names
// or shapes).
double maxDifference(const QString& a, const QString& b)
{
    const auto x = ei::readSafetensors(a.toStdString()), y = ei::readSafetensors(b.toStdString());
    if (x.tensors.size() != y.tensors.size())
        return INFINITY;
    double worst = 0;
    for (const auto& [name, t] : x.tensors) {
        const auto it = y.tensors.find(name);
        if (it == y.tensors.end() || !it->second.sizes().equals(t.sizes()))
            return INFINITY;
        worst = std::max(worst, (t.to(torch::kDouble) - it->second.to(torch::kDouble)).abs().max().item<double>());
    }
    return worst;
}

std::vector<nlohmann::json> events(const QString& progressFile)
{
    std::vector<nlohmann::json> out;
    std::ifstream in(progressFile.toStdString());
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            out.push_back(nlohmann::json::parse(line));
    return out;
}

}  // namespace

class DistributedCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void twoRanksTrainTheModelOfOne()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "20", "--size", "32"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), 8, 2);
        const QStringList common{"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json")};

        const auto one = runCli(common + QStringList{"--out", dir.filePath("one")});
        QVERIFY2(one.code == 0, one.err.constData());

        // The ranks read every batch's images from disk (no cache): each reads its slices only.
        const quint16 port = freePort();
        const QStringList twoArgs = common + QStringList{"--out", dir.filePath("two"), "--cache-mb", "0"};
        auto r0 = startRank(twoArgs, 0, 2, port);
        auto r1 = startRank(twoArgs, 1, 2, port);
        const auto f0 = finish(*r0), f1 = finish(*r1);
        QVERIFY2(f0.code == 0, f0.err.constData());
        QVERIFY2(f1.code == 0, f1.err.constData());
        QVERIFY(f1.out.isEmpty());  // rank 0 reports for the run
        QVERIFY2(f1.err.contains("rank 1 of 2 done"), f1.err.constData());

        // The same parameters to float tolerance, and the same validation path.
        const double diff = maxDifference(dir.filePath("one/model.eimodel"), dir.filePath("two/model.eimodel"));
        QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
        const auto e1 = events(dir.filePath("one/progress.jsonl")), e2 = events(dir.filePath("two/progress.jsonl"));
        QCOMPARE(e2.size(), e1.size());
        int stageStarts = 0;
        for (std::size_t i = 0; i < e1.size(); ++i) {
            QCOMPARE(e2[i]["event"], e1[i]["event"]);
            if (e1[i]["event"] == "stage_start") {
                ++stageStarts;
                QCOMPARE(e1[i]["world_size"].get<int>(), 1);
                QCOMPARE(e2[i]["world_size"].get<int>(), 2);
            }
            if (e1[i]["event"] == "step") {
                QCOMPARE(e2[i].value("dropped", ""), e1[i].value("dropped", ""));  // the same dropout draws
                QVERIFY(std::abs(e2[i]["loss"].get<double>() - e1[i]["loss"].get<double>()) < 1e-4);
            }
            if (e1[i]["event"] == "validation")
                QVERIFY(std::abs(e2[i]["val_mAP"].get<double>() - e1[i]["val_mAP"].get<double>()) < 1e-6);
        }
        QCOMPARE(stageStarts, 3);

        // What each process read: one rank, the whole split once (then held); rank 0 of two,
        // its half of every batch of 8 (the first 4 studies), in every epoch.
        int train = 0;
        for (const auto& row : ei::test::csvRows(dir.filePath("data/manifest.csv")))
            train += row.at(1) == "train";
        int half = 0;
        for (int begin = 0; begin < train; begin += 8)
            half += std::min(4, train - begin);
        QVERIFY(half < train);
        int validations = 0;
        for (std::size_t i = 0; i < e1.size(); ++i)
            if (e1[i]["event"] == "validation" && e1[i]["epoch"].get<int>() > 0) {
                QCOMPARE(e1[i]["examples_read"].get<int>(), validations == 0 ? train : 0);
                QCOMPARE(e2[i]["examples_read"].get<int>(), half);
                ++validations;
            }
        QCOMPARE(validations, 6);
    }

    void killedRankEndsTheRunAndResumes()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "32", "--size", "32"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), 4, 4);
        const QStringList common{"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                                 "--dist-timeout", "60"};
        const auto one = runCli(common + QStringList{"--out", dir.filePath("one")});
        QVERIFY2(one.code == 0, one.err.constData());

        const QString run = dir.filePath("two");
        quint16 port = freePort();
        auto r0 = startRank(common + QStringList{"--out", run}, 0, 2, port);
        auto r1 = startRank(common + QStringList{"--out", run}, 1, 2, port);
        // Kill rank 1 once an epoch of the second stage is checkpointed.
        QElapsedTimer waited;
        waited.start();
        bool checkpointed = false;
        while (!checkpointed && waited.elapsed() < 300000 && r0->state() == QProcess::Running) {
            QThread::msleep(50);
            for (const auto& e : events(run + "/progress.jsonl"))
                checkpointed |= e["event"] == "validation" && e["stage"] == "stage1:OCT" && e["epoch"].get<int>() >= 1;
        }
        QVERIFY(checkpointed);
        ei::test::signalIfRunning(*r1, SIGKILL);
        QElapsedTimer ending;
        ending.start();
        const auto f0 = finish(*r0, 120000);
        finish(*r1);
        QCOMPARE(f0.code, 3);
        QVERIFY2(f0.err.contains("rank 0 of 2") && f0.err.contains("failed"), f0.err.constData());
        QVERIFY2(ending.elapsed() < 60000, qPrintable(QString::number(ending.elapsed())));  // not a hang
        QVERIFY(!QFile::exists(run + "/model.eimodel"));

        // The last checkpoint resumes on two ranks to the model of one uninterrupted rank.
        port = freePort();
        r0 = startRank(common + QStringList{"--out", run, "--resume"}, 0, 2, port);
        r1 = startRank(common + QStringList{"--out", run, "--resume"}, 1, 2, port);
        const auto g0 = finish(*r0), g1 = finish(*r1);
        QVERIFY2(g0.code == 0, g0.err.constData());
        QVERIFY2(g1.code == 0, g1.err.constData());
        const double diff = maxDifference(dir.filePath("one/model.eimodel"), run + "/model.eimodel");
        QVERIFY2(diff < 1e-4, qPrintable(QString::number(diff)));
    }

    void silentRankEndsTheRunWithinTheTimeout()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "20", "--size", "32"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), 4, 50);
        const QStringList args{"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                               "--out", dir.filePath("run"), "--dist-timeout", "8"};
        const quint16 port = freePort();
        auto r0 = startRank(args, 0, 2, port);
        auto r1 = startRank(args, 1, 2, port);
        QElapsedTimer waited;
        waited.start();
        bool training = false;
        while (!training && waited.elapsed() < 120000 && r0->state() == QProcess::Running) {
            QThread::msleep(50);
            for (const auto& e : events(dir.filePath("run/progress.jsonl")))
                training |= e["event"] == "step";
        }
        QVERIFY(training);
        QVERIFY(ei::test::signalIfRunning(*r1, SIGSTOP));  // alive, but silent
        QElapsedTimer ending;
        ending.start();
        const auto f0 = finish(*r0, 120000);
        const qint64 took = ending.elapsed();
        ei::test::signalIfRunning(*r1, SIGKILL);
        finish(*r1);
        QCOMPARE(f0.code, 3);
        QVERIFY2(f0.err.contains("did not answer within 8 s"), f0.err.constData());
        QVERIFY2(took < 40000, qPrintable(QString::number(took)));
    }

    void predictShardedOverTwoRanks()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "23", "--size", "32"}).code, 0);
        std::ofstream(dir.filePath("model.json").toStdString()) << R"({
            "backbone": {"patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2, "pos_grid": [2, 2]},
            "modalities": [{"name": "CFP", "size": [32, 32]}, {"name": "OCT", "size": [32, 32]}],
            "classes": ["lesion", "normal"], "adapter": {"hidden": 8}})";
        QCOMPARE(runCli({"init", "--config", dir.filePath("model.json"), "--seed", "4", "--random-adapters", "--out",
                         dir.filePath("m.eimodel")})
                     .code,
                 0);
        // Study 4 (pending index 3: rank 1's share) gets a broken CFP.
        std::ifstream in(dir.filePath("data/manifest.csv").toStdString());
        std::ofstream manifest(dir.filePath("data/archive.csv").toStdString());
        std::string line;
        for (int i = 0; std::getline(in, line); ++i) {
            if (i == 4)
                line = line.substr(0, line.rfind(',', line.rfind(',') - 1)) + ",broken.png" + line.substr(line.rfind(','));
            manifest << line << "\n";
        }
        manifest.close();
        std::ofstream(dir.filePath("data/broken.png").toStdString()) << "no PNG";
        const QStringList common{"predict", "--model", dir.filePath("m.eimodel"), "--manifest", dir.filePath("data/archive.csv"),
                                 "--batch-size", "3", "--maps", dir.filePath("maps")};
        const auto one = runCli(common + QStringList{"--out", dir.filePath("one.csv")});
        QCOMPARE(one.code, 3);

        const quint16 port = freePort();
        auto r0 = startRank(common + QStringList{"--out", dir.filePath("two.csv")}, 0, 2, port);
        auto r1 = startRank(common + QStringList{"--out", dir.filePath("two.csv")}, 1, 2, port);
        const auto f0 = finish(*r0), f1 = finish(*r1);
        QCOMPARE(f0.code, 3);  // rank 0 reports rank 1's broken study
        QVERIFY2(f0.err.contains("1 of 23 studies could not be scored (row 5"), f0.err.constData());
        QVERIFY2(f1.code == 0, f1.err.constData());
        const auto summary = nlohmann::json::parse(f0.out.toStdString());
        QCOMPARE(summary["scored"].get<int>(), 22);
        QCOMPARE(summary["failed"].get<int>(), 1);

        // Row by row the table of one rank, in manifest order; the same error list.
        using ei::test::csvRows;
        const auto a = csvRows(dir.filePath("one.csv")), b = csvRows(dir.filePath("two.csv"));
        QCOMPARE(b.size(), std::size_t(23));
        QCOMPARE(b.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(b[i].size(), a[i].size());
            QCOMPARE(b[i][0], a[i][0]);
            for (std::size_t k = 1; i > 0 && k < a[i].size(); ++k)
                QVERIFY2(a[i][k].empty() ? b[i][k].empty() : std::abs(std::stod(a[i][k]) - std::stod(b[i][k])) < 1e-6,
                         (a[i][k] + " vs " + b[i][k]).c_str());
        }
        std::ifstream e1(dir.filePath("one.csv.errors.csv").toStdString()), e2(dir.filePath("two.csv.errors.csv").toStdString());
        std::string l1, l2;
        while (std::getline(e1, l1)) {
            QVERIFY(std::getline(e2, l2));
            QCOMPARE(l2, l1);
        }
        QCOMPARE(QDir(dir.filePath("maps")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 22);

        // Resumed on two ranks from a partial file holding the first 5 rows (as a stopped run
        // leaves it): rank 0 tells rank 1 what is done, the rest is scored, the table is the same.
        {
            std::ofstream partial(dir.filePath("three.csv.partial").toStdString());
            for (std::size_t i = 0; i <= 5; ++i) {
                for (std::size_t k = 0; k < a[i].size(); ++k)
                    partial << (k ? "," : "") << a[i][k];
                partial << "\n";
            }
            QFile model(dir.filePath("m.eimodel"));
            QVERIFY(model.open(QIODevice::ReadOnly));
            const nlohmann::json identity{
                {"model_sha256", QCryptographicHash::hash(model.readAll(), QCryptographicHash::Sha256).toHex().toStdString()},
                {"manifest", QFileInfo(dir.filePath("data/archive.csv")).absoluteFilePath().toStdString()},
                {"split", ""},
                {"maps", QFileInfo(dir.filePath("maps")).absoluteFilePath().toStdString()},
                {"columns", a[0]}};
            std::ofstream(dir.filePath("three.csv.partial.json").toStdString()) << identity.dump(2);
        }
        const quint16 port2 = freePort();
        r0 = startRank(common + QStringList{"--out", dir.filePath("three.csv")}, 0, 2, port2);
        r1 = startRank(common + QStringList{"--out", dir.filePath("three.csv")}, 1, 2, port2);
        const auto g0 = finish(*r0), g1 = finish(*r1);
        QCOMPARE(g0.code, 3);
        QVERIFY2(g1.code == 0, g1.err.constData());
        const auto resumed = nlohmann::json::parse(g0.out.toStdString());
        QCOMPARE(resumed["resumed"].get<int>(), 5);
        QCOMPARE(resumed["scored"].get<int>(), 17);
        const auto c = csvRows(dir.filePath("three.csv"));
        QCOMPARE(c.size(), a.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            QCOMPARE(c[i][0], a[i][0]);
    }

    void refusesWhatCannotRun()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "12", "--size", "32"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), 5, 1);
        const QStringList args{"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                               "--out", dir.filePath("run")};
        // batch_size 5 among 2 ranks: refused before any rendezvous (no peer needed).
        auto r0 = startRank(args, 0, 2, freePort());
        const auto f = finish(*r0, 60000);
        QCOMPARE(f.code, 3);
        QVERIFY2(f.err.contains("batch_size 5 is the global batch and must divide evenly among the 2 ranks"), f.err.constData());
        // A rank outside the world, a malformed URL, an unknown backend: usage errors.
        QCOMPARE(runCli(args + QStringList{"--world-size", "2", "--rank", "2", "--dist-url", "tcp://127.0.0.1:1234"}).code, 2);
        QCOMPARE(runCli(args + QStringList{"--world-size", "2", "--rank", "0", "--dist-url", "127.0.0.1:1234"}).code, 2);
        QCOMPARE(runCli(args + QStringList{"--world-size", "2", "--rank", "0", "--dist-url", "tcp://127.0.0.1:1234",
                                           "--dist-backend", "mpi"})
                     .code,
                 2);
        // A launcher variable that is not a number is named, not guessed at.
        QProcess bad;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("WORLD_SIZE", "two");
        bad.setProcessEnvironment(env);
        bad.start(ei::test::cliPath(), args);
        const auto b = finish(bad, 60000);
        QCOMPARE(b.code, 2);
        QVERIFY2(b.err.contains("environment variable WORLD_SIZE='two' is not a valid number"), b.err.constData());
        QVERIFY(!QFile::exists(dir.filePath("run")));
    }

    void everyRankNamesTheDataSetsProblems()
    {
        // The ranks split the image check (each decodes every second image); a broken
        // image stops both, each naming its row, whichever rank decoded it.
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", "12", "--size", "32"}).code, 0);
        writeTrainConfig(dir.filePath("train.json"), 4, 1);
        const auto rows = ei::test::csvRows(dir.filePath("data/manifest.csv"));
        QStringList broken;
        for (std::size_t c : {std::size_t(3), std::size_t(4)}) {  // the first study's images: one for each rank
            const QString file = dir.filePath("data/" + QString::fromStdString(rows.at(1).at(c)));
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("not an image");
            broken << QString::fromStdString(rows.at(1).at(c));
        }
        const QStringList args{"train", "--manifest", dir.filePath("data/manifest.csv"), "--config", dir.filePath("train.json"),
                               "--out", dir.filePath("run")};
        const quint16 port = freePort();
        auto r0 = startRank(args, 0, 2, port);
        auto r1 = startRank(args, 1, 2, port);
        const auto f0 = finish(*r0, 120000), f1 = finish(*r1, 120000);
        for (const auto* f : {&f0, &f1}) {
            QCOMPARE(f->code, 3);
            QVERIFY2(f->err.contains("2 problem(s)"), f->err.constData());
            QVERIFY2(f->err.contains("row 2: CFP file '" + broken[0].toUtf8() + "' cannot be read"), f->err.constData());
            QVERIFY2(f->err.contains("row 2: OCT file '" + broken[1].toUtf8() + "' cannot be read"), f->err.constData());
        }
        QVERIFY(!QFile::exists(dir.filePath("run/checkpoint.safetensors")));
    }
};

#include "DistributedCliTest.moc"
EI_REGISTER_TEST(DistributedCliTest);
