// core/scoring/BatchScoring: a run stopped between batches (here cancelled; killed works
// the same way, the rows on disk being flushed per batch) and started again skips what
// was scored, survives a torn last line, and ends with the same table as a run that was
// never stopped; a partial file of a run with another model is refused, not mixed in.
#include "tests/TinyStudy.h"

#include "tests/CsvFile.h"
#include "core/scoring/BatchScoring.h"
#include "models/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <fstream>
#include <sstream>

namespace {

using ei::test::csvRows;
using ei::test::fileText;

// <dir>/data: a synthetic CFP + OCT set of `studies` 32 x 32 studies.
void writeData(const QTemporaryDir& dir, int studies)
{
    ei::SyntheticOptions o;
    o.studies = studies;
    o.size = 32;
    ei::writeSyntheticDataset(dir.filePath("data").toStdString(), o);
}

QString makeModel(const QTemporaryDir& dir, const QString& name, int seed)
{
    const QString config = dir.filePath("model.json");
    std::ofstream(config.toStdString()) << R"({
        "backbone": {"patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2, "pos_grid": [2, 2]},
        "modalities": [{"name": "CFP", "size": [32, 32]}, {"name": "OCT", "size": [32, 32]}],
        "classes": ["lesion", "normal"], "adapter": {"hidden": 16}})";
    return ei::test::runCli({"init", "--config", config, "--seed", QString::number(seed), "--random-adapters", "--out",
                             dir.filePath(name)});
}

// Scores until at least `after` studies are done, then cancels.
void scoreAndStop(const ei::ScoringRequest& request, int after)
{
    std::atomic<bool> stop{false};
    ei::JobControl control;
    control.cancelFlag = &stop;
    bool cancelled = false;
    try {
        ei::scoreManifest(request, [&](int done, int) { stop = done >= after; }, &control);
    } catch (const ei::Cancelled&) {
        cancelled = true;
    }
    QVERIFY(cancelled);
}

}  // namespace

class BatchScoringTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void resumesWhereItStopped()
    {
        QTemporaryDir dir;
        writeData(dir, 12);
        QString err = makeModel(dir, "m.eimodel", 5);
        QVERIFY2(err.isEmpty(), qPrintable(err));

        ei::ScoringRequest request;
        request.modelPath = dir.filePath("m.eimodel").toStdString();
        request.manifestPath = dir.filePath("data/manifest.csv").toStdString();
        request.batchSize = 2;
        request.outPath = dir.filePath("whole.csv").toStdString();
        const ei::ScoringSummary whole = ei::scoreManifest(request);
        QCOMPARE(whole.scored, 12);

        request.outPath = dir.filePath("resumed.csv").toStdString();
        const QString partial = dir.filePath("resumed.csv.partial");
        scoreAndStop(request, 4);
        QVERIFY(!QFile::exists(dir.filePath("resumed.csv")));  // no result before the end
        const auto before = csvRows(partial);
        QVERIFY2(before.size() >= 5 && before.size() < 13, qPrintable(QString::number(before.size())));
        {  // a run killed in the middle of a write
            std::ofstream torn(partial.toStdString(), std::ios::app);
            torn << "torn-id,0.12";
        }
        const ei::ScoringSummary resumed = ei::scoreManifest(request);
        QCOMPARE(resumed.resumed, static_cast<int>(before.size()) - 1);
        QCOMPARE(resumed.scored, 12 - resumed.resumed);
        QVERIFY(!QFile::exists(partial));
        QVERIFY(!QFile::exists(partial + ".json"));

        const auto a = csvRows(dir.filePath("whole.csv"));
        const auto b = csvRows(dir.filePath("resumed.csv"));
        QCOMPARE(b.size(), a.size());
        QCOMPARE(b[0], a[0]);
        for (std::size_t i = 1; i < a.size(); ++i) {
            QCOMPARE(b[i].size(), a[i].size());
            QCOMPARE(b[i][0], a[i][0]);
            for (std::size_t k = 1; k < a[i].size(); ++k)
                QVERIFY2(std::abs(std::stod(a[i][k]) - std::stod(b[i][k])) < 1e-6, (a[i][k] + " vs " + b[i][k]).c_str());
        }
    }

    void refusesAnotherRunsPartialFile()
    {
        QTemporaryDir dir;
        writeData(dir, 8);
        QString err = makeModel(dir, "a.eimodel", 5);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        err = makeModel(dir, "b.eimodel", 6);
        QVERIFY2(err.isEmpty(), qPrintable(err));

        ei::ScoringRequest request;
        request.modelPath = dir.filePath("a.eimodel").toStdString();
        request.manifestPath = dir.filePath("data/manifest.csv").toStdString();
        request.batchSize = 2;
        request.outPath = dir.filePath("r.csv").toStdString();
        scoreAndStop(request, 2);
        const std::string partial = fileText(dir.filePath("r.csv.partial"));

        request.modelPath = dir.filePath("b.eimodel").toStdString();
        try {
            ei::scoreManifest(request);
            QFAIL("a partial file of another model was resumed");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("interrupted run with another model"), e.what());
        }
        QCOMPARE(fileText(dir.filePath("r.csv.partial")), partial);
        request.split = "test";  // another split: refused the same way
        request.modelPath = dir.filePath("a.eimodel").toStdString();
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::scoreManifest(request));
    }
};

#include "BatchScoringTest.moc"
EI_REGISTER_TEST(BatchScoringTest);
