// Data set manifests: every problem of ARCHITECTURE.md's list reported with its row
// (missing file, unreadable image, unknown class, missing modality column, empty split,
// malformed rows), counts, targets; and the synthetic generator (seeded, balanced,
// stratified, each modality alone uninformative).
#include "core/data/Manifest.h"
#include "core/data/SyntheticData.h"
#include "core/io/ImageLoader.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>
#include <sstream>

namespace {

void writeText(const QString& path, const std::string& text)
{
    std::ofstream(path.toStdString(), std::ios::binary) << text;
}

bool hasProblem(const ei::Manifest& m, int row, const std::string& fragment)
{
    for (const auto& p : m.problems())
        if (p.row == row && p.problem.find(fragment) != std::string::npos)
            return true;
    return false;
}

QString dump(const ei::Manifest& m)
{
    QString s;
    for (const auto& p : m.problems())
        s += QString::fromStdString(p.text()) + "\n";
    return s;
}

QByteArray hashTree(const QString& dir)
{
    QCryptographicHash h(QCryptographicHash::Sha256);
    QDir d(dir + "/img");
    for (const auto& name : d.entryList(QDir::Files, QDir::Name)) {
        QFile f(d.filePath(name));
        f.open(QIODevice::ReadOnly);
        h.addData(name.toUtf8());
        h.addData(f.readAll());
    }
    QFile m(dir + "/manifest.csv");
    m.open(QIODevice::ReadOnly);
    h.addData(m.readAll());
    return h.result();
}

}  // namespace

class ManifestTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void reportsEveryProblemWithItsRow()
    {
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.studies = 8;
        o.size = 48;
        ei::writeSyntheticDataset(dir.filePath("syn").toStdString(), o);
        writeText(dir.filePath("syn/img/broken.png"), "not a png at all");
        // line 1 header; 2 ok; 3 missing file; 4 unreadable; 5 unknown class; 6 bad split;
        // 7 wrong field count; 8 duplicate id; 9 empty OCT field.
        writeText(dir.filePath("syn/bad.csv"),
                  "id,split,label,CFP,OCT\n"
                  "a,train,lesion,img/s0001_cfp.png,img/s0001_oct.png\n"
                  "b,train,normal,img/missing.png,img/s0002_oct.png\n"
                  "c,train,normal,img/broken.png,img/s0003_oct.png\n"
                  "d,train,glaucoma,img/s0004_cfp.png,img/s0004_oct.png\n"
                  "e,training,normal,img/s0005_cfp.png,img/s0005_oct.png\n"
                  "f,train,normal,img/s0006_cfp.png\n"
                  "a,train,normal,img/s0007_cfp.png,img/s0007_oct.png\n"
                  "g,train,normal,img/s0008_cfp.png,\n");
        ei::ManifestOptions options;
        options.modalities = {"CFP", "OCT"};
        options.classes = {"normal", "lesion"};
        options.checkImage = [](const std::string& path) { ei::loadImage(path); };
        const auto m = ei::Manifest::read(dir.filePath("syn/bad.csv").toStdString(), options);
        QVERIFY2(hasProblem(m, 3, "does not exist"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 4, "cannot be read"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 5, "unknown class 'glaucoma'"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 6, "unknown split 'training'"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 7, "has 4 fields"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 8, "repeats the id of row 2"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 9, "no OCT file"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 0, "split 'val' has no usable study"), qPrintable(dump(m)));
        QCOMPARE(m.rows().size(), std::size_t(1));  // only row 2 is usable
        QCOMPARE(m.problems().size(), std::size_t(8));
        // The id (possibly a patient identifier) never appears in a message.
        for (const auto& p : m.problems())
            QVERIFY2(p.text().find("'a'") == std::string::npos, p.text().c_str());
        try {
            m.throwIfProblems();
            QFAIL("no error");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            QVERIFY(std::string(e.what()).find("bad.csv") != std::string::npos);
            QVERIFY(std::string(e.what()).find("row 5: unknown class") != std::string::npos);
        }
    }

    void missingModalityColumnAndHeaderColumns()
    {
        QTemporaryDir dir;
        writeText(dir.filePath("m.csv"), "id,label,CFP\nx,normal,a.png\n");
        ei::ManifestOptions options;
        options.modalities = {"CFP", "OCT"};
        const auto m = ei::Manifest::read(dir.filePath("m.csv").toStdString(), options);
        QVERIFY2(hasProblem(m, 1, "column 'split' is missing"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 1, "modality column 'OCT' is missing"), qPrintable(dump(m)));
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::Manifest::read(dir.filePath("none.csv").toStdString()));
        writeText(dir.filePath("empty.csv"), "\n\n");
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::Manifest::read(dir.filePath("empty.csv").toStdString()));
    }

    void multiLabelTargetsAndCounts()
    {
        QTemporaryDir dir;
        writeText(dir.filePath("a.png"), "x");
        writeText(dir.filePath("m.csv"),
                  "\xEF\xBB\xBFid,split,label,MR\r\n1,train,acl;meniscus,a.png\r\n2,train,,a.png\r\n3,val,\"abnormal\",a.png\r\n"
                  "4,val,acl;meniscus,a.png\r\n");
        ei::ManifestOptions options;
        options.multilabel = true;
        options.classes = {"abnormal", "acl", "meniscus"};
        const auto m = ei::Manifest::read(dir.filePath("m.csv").toStdString(), options);
        QVERIFY2(m.problems().empty(), qPrintable(dump(m)));
        QCOMPARE(m.modalities(), std::vector<std::string>{"MR"});
        QCOMPARE(m.target(m.rows()[0]), (std::vector<float>{0, 1, 1}));
        QCOMPARE(m.target(m.rows()[1]), (std::vector<float>{0, 0, 0}));  // empty = normal
        QCOMPARE(m.splitCounts().at("train"), 2);
        QCOMPARE(m.classCounts().at("val").at("abnormal"), 1);
    }

    void aClassValidationNeverSeesIsFlagged()
    {
        // Issue 13, #18: one training study of a class and none in val / test passed the check.
        QTemporaryDir dir;
        writeText(dir.filePath("a.png"), "x");
        writeText(dir.filePath("m.csv"), "id,split,label,CFP\n1,train,normal,a.png\n2,train,rare,a.png\n"
                                         "3,val,normal,a.png\n4,test,normal,a.png\n");
        const auto m = ei::Manifest::read(dir.filePath("m.csv").toStdString());
        QVERIFY2(hasProblem(m, 0, "class 'rare' has 1 training study and none in the val split"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 0, "class 'rare' has 1 training study and none in the test split"), qPrintable(dump(m)));
        QCOMPARE(int(m.problems().size()), 2);
        // Evaluating a model on a split (no training) does not ask for it.
        ei::ManifestOptions evaluation;
        evaluation.requiredSplits = {"test"};
        QVERIFY(ei::Manifest::read(dir.filePath("m.csv").toStdString(), evaluation).problems().empty());
    }

    void wrongButLoadableDataIsFlagged()
    {
        // Issue 12, #11: a quoted field with a line break was reported as wrong field counts
        // on two other rows; a NUL byte or a mistyped label made a new class; a manifest of
        // one class trained a one-class model.
        QTemporaryDir dir;
        writeText(dir.filePath("a.png"), "x");
        std::string rows = "id,split,label,CFP\n";
        for (int i = 0; i < 6; ++i)
            rows += std::to_string(10 + i) + "," + (i < 4 ? "train" : i < 5 ? "val" : "test") + ",lesion,a.png\n";
        for (int i = 0; i < 6; ++i)
            rows += std::to_string(20 + i) + "," + (i < 4 ? "train" : i < 5 ? "val" : "test") + ",normal,a.png\n";
        const std::string good = rows;
        rows += "30,train,\"lesion\nnormal\",a.png\n";            // rows 14-15
        rows += "31,train,l\xc3\xa9sion,a.png\n";                 // row 16: "lésion"
        rows += std::string("32,train,nor") + '\0' + "mal,a.png\n"; // row 17
        writeText(dir.filePath("m.csv"), rows);
        const auto m = ei::Manifest::read(dir.filePath("m.csv").toStdString());
        QVERIFY2(hasProblem(m, 14, "a quoted field holds a line break (rows 14 to 15)"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 16, "class 'l\xc3\xa9sion' (1 study) looks like a typo of 'lesion'"), qPrintable(dump(m)));
        QVERIFY2(hasProblem(m, 17, "control character"), qPrintable(dump(m)));
        for (const auto& p : m.problems())  // nothing reported on rows that are fine
            QVERIFY2(p.row == 14 || p.row == 16 || p.row == 17 || (p.row == 0 && p.problem.find("l\xc3\xa9sion") != std::string::npos),
                     qPrintable(dump(m)));
        // A clean manifest has none; one of a single class is refused for training.
        writeText(dir.filePath("good.csv"), good);
        QVERIFY2(ei::Manifest::read(dir.filePath("good.csv").toStdString()).problems().empty(),
                 qPrintable(dump(ei::Manifest::read(dir.filePath("good.csv").toStdString()))));
        std::string one = "id,split,label,CFP\n1,train,lesion,a.png\n2,val,lesion,a.png\n3,test,lesion,a.png\n";
        writeText(dir.filePath("one.csv"), one);
        const auto single = ei::Manifest::read(dir.filePath("one.csv").toStdString());
        QVERIFY2(hasProblem(single, 0, "at least two classes"), qPrintable(dump(single)));
    }

    void syntheticDataIsSeededBalancedAndNeedsBothModalities()
    {
        QTemporaryDir dir;
        ei::SyntheticOptions o;
        o.studies = 40;
        o.size = 64;
        o.seed = 11;
        const auto s1 = ei::writeSyntheticDataset(dir.filePath("a").toStdString(), o);
        ei::writeSyntheticDataset(dir.filePath("b").toStdString(), o);
        o.seed = 12;
        ei::writeSyntheticDataset(dir.filePath("c").toStdString(), o);
        QCOMPARE(hashTree(dir.filePath("a")), hashTree(dir.filePath("b")));
        QVERIFY(hashTree(dir.filePath("a")) != hashTree(dir.filePath("c")));
        QCOMPARE(s1.positives, 20);
        QCOMPARE(s1.train + s1.val + s1.test, 40);
        // Refuses to overwrite an existing data set.
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::writeSyntheticDataset(dir.filePath("a").toStdString(), o));

        ei::ManifestOptions options;
        options.checkImage = [](const std::string& path) { ei::loadImage(path); };
        options.requiredSplits = {"train", "val", "test"};
        const auto m = ei::Manifest::read(s1.manifestPath, options);
        QVERIFY2(m.problems().empty(), qPrintable(dump(m)));
        QCOMPARE(m.classes(), (std::vector<std::string>{"lesion", "normal"}));
        for (const auto& [split, counts] : m.classCounts())
            QVERIFY2(counts.count("lesion") && counts.count("normal"), split.c_str());
        // Each finding alone is independent of the label: P(lesion | finding) = 1/2.
        std::ifstream findings(dir.filePath("a/findings.csv").toStdString());
        std::string line;
        std::getline(findings, line);
        std::map<std::string, std::map<std::string, int>> byFinding;
        std::map<std::string, std::string> label;
        for (const auto& r : m.rows())
            label[r.id] = r.labels[0];
        while (std::getline(findings, line)) {
            std::stringstream ss(line);
            std::string id, split, cfp, oct;
            std::getline(ss, id, ',');
            std::getline(ss, split, ',');
            std::getline(ss, cfp, ',');
            std::getline(ss, oct, ',');
            ++byFinding[cfp][label[id]];
            ++byFinding[oct][label[id]];
            QCOMPARE(label[id] == "lesion", (cfp == "drusen") == (oct == "bumps"));
        }
        for (const auto& [finding, counts] : byFinding)
            QVERIFY2(counts.at("lesion") == counts.at("normal"), finding.c_str());
        // The images are what the loaders expect: a colour photo and a grey B-scan.
        const auto cfp = ei::loadImage(m.rows()[0].files[0]);
        const auto oct = ei::loadImage(m.rows()[0].files[1]);
        QCOMPARE(cfp.channels, 3);
        QCOMPARE(oct.channels, 1);
        QCOMPARE(cfp.width, 64);
    }
};

EI_REGISTER_TEST(ManifestTest);
#include "ManifestTest.moc"
