// `eiview-cli predict` (issue 17): the result table's columns (the contract), its rows in
// manifest order and equal to `infer` study by study, a study without a modality, a
// study whose image is broken (listed, not fatal: exit 3), the split filter, the maps,
// and the refusals (usage 2; an output that is the manifest 3, the manifest unchanged).
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"

#include "tests/CsvFile.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace {

using ei::test::CliRun;

CliRun runCli(const QStringList& args)
{
    return ei::test::runCliProcess(args);
}

using ei::test::fileText;

// The table: header, then rows keyed by id (and their order).
struct Table {
    std::vector<std::string> header;
    std::vector<std::string> ids;
    std::map<std::string, std::map<std::string, std::string>> rows;
    double number(const std::string& id, const std::string& column) const { return std::stod(rows.at(id).at(column)); }
};

Table readTable(const QString& path)
{
    Table t;
    std::istringstream in(fileText(path));
    std::string line;
    std::getline(in, line);
    t.header = ei::splitCsvLine(line);
    while (std::getline(in, line)) {
        const auto fields = ei::splitCsvLine(line);
        t.ids.push_back(fields.at(0));
        for (std::size_t k = 0; k < fields.size() && k < t.header.size(); ++k)
            t.rows[fields[0]][t.header[k]] = fields[k];
    }
    return t;
}

// A synthetic CFP + OCT set and a random EI model for it (classes lesion, normal).
QString makeModelAndData(const QTemporaryDir& dir, int studies)
{
    if (runCli({"make-synthetic", "--out", dir.filePath("data"), "--n", QString::number(studies), "--size", "48"}).code != 0)
        return "make-synthetic failed";
    std::ofstream(dir.filePath("model.json").toStdString()) << R"({
        "backbone": {"patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2, "pos_grid": [3, 3]},
        "modalities": [{"name": "CFP", "size": [48, 48]}, {"name": "OCT", "size": [48, 48]}],
        "classes": ["lesion", "normal"], "adapter": {"hidden": 16}})";
    const auto r = runCli({"init", "--config", dir.filePath("model.json"), "--seed", "5", "--random-adapters", "--out",
                           dir.filePath("m.eimodel")});
    return r.code == 0 ? QString() : QString::fromLocal8Bit(r.err);
}

// Manifest rows as written by make-synthetic (id, split, label, CFP, OCT), header left out.
std::vector<std::vector<std::string>> manifestRows(const QString& path)
{
    auto rows = ei::test::csvRows(path);
    rows.erase(rows.begin());
    return rows;
}

}  // namespace

class PredictCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scoresEveryStudyAsInferDoes()
    {
        QTemporaryDir dir;
        const QString err = makeModelAndData(dir, 12);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QString manifest = dir.filePath("data/manifest.csv");
        const QString out = dir.filePath("results.csv");
        const auto r = runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest, "--out", out,
                               "--batch-size", "5", "--maps", dir.filePath("maps")});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto summary = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(summary["total"].get<int>(), 12);
        QCOMPARE(summary["scored"].get<int>(), 12);
        QCOMPARE(summary["resumed"].get<int>(), 0);
        QCOMPARE(summary["failed"].get<int>(), 0);
        QVERIFY(!QFile::exists(out + ".partial"));
        QVERIFY(!QFile::exists(out + ".partial.json"));
        QVERIFY(!QFile::exists(out + ".errors.csv"));

        const Table t = readTable(out);
        const std::vector<std::string> expected{"id", "prob_lesion", "prob_normal", "gate_CFP", "gate_OCT",
                                                "CFP_prob_lesion", "CFP_prob_normal", "OCT_prob_lesion", "OCT_prob_normal"};
        QCOMPARE(t.header, expected);
        const auto rows = manifestRows(manifest);
        QCOMPARE(t.ids.size(), rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i)
            QCOMPARE(t.ids[i], rows[i][0]);  // manifest order

        // Every row: probabilities and gates are distributions.
        for (const auto& id : t.ids) {
            QVERIFY(std::abs(t.number(id, "prob_lesion") + t.number(id, "prob_normal") - 1.0) < 1e-6);
            QVERIFY(std::abs(t.number(id, "gate_CFP") + t.number(id, "gate_OCT") - 1.0) < 1e-6);
        }
        // Three studies against `infer`, one study at a time: batching changes nothing.
        const QString base = QFileInfo(manifest).absolutePath();
        for (std::size_t i : {std::size_t(0), std::size_t(6), std::size_t(11)}) {
            const auto& row = rows[i];
            const auto one = runCli({"infer", "--model", dir.filePath("m.eimodel"), "--input",
                                     "CFP=" + QDir(base).filePath(QString::fromStdString(row[3])), "--input",
                                     "OCT=" + QDir(base).filePath(QString::fromStdString(row[4]))});
            QVERIFY2(one.code == 0, one.err.constData());
            const auto j = nlohmann::json::parse(one.out.toStdString());
            const std::string id = row[0];
            QVERIFY(std::abs(t.number(id, "prob_lesion") - j["fused"]["probs"][0].get<double>()) < 1e-5);
            QVERIFY(std::abs(t.number(id, "prob_normal") - j["fused"]["probs"][1].get<double>()) < 1e-5);
            QVERIFY(std::abs(t.number(id, "gate_OCT") - j["gate"][1].get<double>()) < 1e-5);
            QVERIFY(std::abs(t.number(id, "OCT_prob_normal") - j["modalities"][1]["probs"][1].get<double>()) < 1e-5);
            QVERIFY(std::abs(t.number(id, "CFP_prob_lesion") - j["modalities"][0]["probs"][0].get<double>()) < 1e-5);
        }
        // Maps: one folder per study, cls and int maps per modality, on the 3 x 3 grid.
        const QDir maps(dir.filePath("maps/" + QString::fromStdString(rows[0][0])));
        QVERIFY2(maps.exists("CFP_cls.npy") && maps.exists("OCT_cls.npy") && maps.exists("CFP_int_OCT.npy"),
                 qPrintable(maps.entryList().join(' ')));
        QCOMPARE(QDir(dir.filePath("maps")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 12);
    }

    void missingModalityAndBrokenStudy()
    {
        QTemporaryDir dir;
        const QString err = makeModelAndData(dir, 8);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        // Row 2 of the manifest (line 3) lacks its OCT; row 4 (line 5) has a broken CFP;
        // the label column is emptied (an unlabelled archive).
        auto rows = manifestRows(dir.filePath("data/manifest.csv"));
        rows[1][4].clear();
        std::ofstream(dir.filePath("data/broken.png").toStdString()) << "not a PNG at all";
        rows[3][3] = "broken.png";
        const QString manifest = dir.filePath("data/archive.csv");
        {
            std::ofstream m(manifest.toStdString());
            m << "id,split,label,CFP,OCT\n";
            for (const auto& r : rows)
                m << r[0] << ',' << r[1] << ",," << r[3] << ',' << r[4] << '\n';
        }
        const std::string before = fileText(manifest);
        const QString out = dir.filePath("results.csv");
        const auto r = runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest, "--out", out});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("1 of 8 studies could not be scored (row 5"), r.err.constData());
        QVERIFY2(r.err.contains("broken.png"), r.err.constData());
        const auto summary = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(summary["failed"].get<int>(), 1);
        QCOMPARE(summary["scored"].get<int>(), 7);
        const std::string errors = fileText(out + ".errors.csv");
        QVERIFY2(errors.rfind("row,problem\n5,", 0) == 0, errors.c_str());
        QVERIFY(errors.find(rows[3][0]) == std::string::npos);  // no id in the error list

        const Table t = readTable(out);
        QCOMPARE(t.ids.size(), std::size_t(7));
        QVERIFY(!t.rows.count(rows[3][0]));
        const auto& lacking = t.rows.at(rows[1][0]);
        QCOMPARE(lacking.at("gate_OCT"), std::string("0"));
        QCOMPARE(lacking.at("gate_CFP"), std::string("1"));
        QCOMPARE(lacking.at("OCT_prob_lesion"), std::string());
        // Without OCT the fused output is the CFP head's.
        QVERIFY(std::abs(t.number(rows[1][0], "prob_lesion") - t.number(rows[1][0], "CFP_prob_lesion")) < 1e-6);
        QCOMPARE(fileText(manifest), before);

        // The split filter.
        const auto test = runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", dir.filePath("data/manifest.csv"),
                                  "--split", "train", "--out", dir.filePath("train.csv")});
        QVERIFY2(test.code == 0, test.err.constData());
        std::vector<std::string> inTrain;
        for (const auto& row : manifestRows(dir.filePath("data/manifest.csv")))
            if (row[1] == "train")
                inTrain.push_back(row[0]);
        QVERIFY(!inTrain.empty() && inTrain.size() < rows.size());
        QCOMPARE(readTable(dir.filePath("train.csv")).ids, inTrain);
    }

    void refusals()
    {
        QTemporaryDir dir;
        const QString err = makeModelAndData(dir, 8);
        QVERIFY2(err.isEmpty(), qPrintable(err));
        const QString manifest = dir.filePath("data/manifest.csv");
        const std::string before = fileText(manifest);
        auto r = runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest, "--out", manifest});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("is an input of this run"), r.err.constData());
        QCOMPARE(fileText(manifest), before);
        QCOMPARE(runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest}).code, 2);  // no --out
        QCOMPARE(runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest, "--out", dir.filePath("r.csv"),
                         "--split", "all"})
                     .code,
                 2);
        QCOMPARE(runCli({"predict", "--model", dir.filePath("m.eimodel"), "--manifest", manifest, "--out", dir.filePath("r.csv"),
                         "--batch-size", "0"})
                     .code,
                 2);
        r = runCli({"predict", "--model", dir.filePath("missing.eimodel"), "--manifest", manifest, "--out", dir.filePath("r.csv")});
        QCOMPARE(r.code, 4);
        QVERIFY(!QFile::exists(dir.filePath("r.csv")));
    }
};

#include "PredictCliTest.moc"
EI_REGISTER_TEST(PredictCliTest);
