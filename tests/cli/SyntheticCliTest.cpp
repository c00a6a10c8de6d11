// `eiview-cli make-synthetic`: writes a data set and its counts; usage errors exit 2,
// an existing data set exits 3 and is left untouched.
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using ei::test::CliRun;

CliRun runCli(const QStringList& args)
{
    return ei::test::runCliProcess(args);
}

}  // namespace

class SyntheticCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void writesADataSetAndRefusesToOverwrite()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath("syn");
        const auto r = runCli({"make-synthetic", "--out", out, "--n", "12", "--seed", "4", "--size", "48"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["studies"].get<int>(), 12);
        QCOMPARE(j["labels"]["lesion"].get<int>(), 6);
        QCOMPARE(j["splits"]["train"].get<int>() + j["splits"]["val"].get<int>() + j["splits"]["test"].get<int>(), 12);
        QVERIFY(QFile::exists(out + "/manifest.csv"));
        QVERIFY(QFile::exists(out + "/img/s0012_oct.png"));
        QFile manifest(out + "/manifest.csv");
        manifest.open(QIODevice::ReadOnly);
        const QByteArray before = manifest.readAll();

        const auto again = runCli({"make-synthetic", "--out", out, "--n", "12"});
        QCOMPARE(again.code, 3);
        QVERIFY2(again.err.contains("already exists"), again.err.constData());
        manifest.seek(0);
        QCOMPARE(manifest.readAll(), before);
    }

    void kneeVolumesAreMrnetStyleAndTheLabelNeedsTwoViews()
    {
        QTemporaryDir dir;
        const QString out = dir.filePath("knee");
        const auto r = runCli({"make-synthetic", "--kind", "knee", "--out", out, "--n", "16", "--seed", "2", "--size", "40",
                               "--slices", "6"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["modalities"], nlohmann::json({"SAG", "COR", "AX"}));
        QCOMPARE(j["labels"]["lesion"].get<int>(), 8);

        QFile manifest(out + "/manifest.csv");
        QVERIFY(manifest.open(QIODevice::ReadOnly));
        QCOMPARE(manifest.readLine().trimmed(), QByteArray("id,split,label,SAG,COR,AX"));
        QFile findings(out + "/findings.csv");
        QVERIFY(findings.open(QIODevice::ReadOnly));
        QCOMPARE(findings.readLine().trimmed(), QByteArray("id,split,SAG_finding,COR_finding,AX_finding,SAG,COR,AX"));
        int axAgrees = 0, rows = 0;
        while (!manifest.atEnd()) {
            const QList<QByteArray> m = manifest.readLine().trimmed().split(',');
            const QList<QByteArray> f = findings.readLine().trimmed().split(',');
            QCOMPARE(m.size(), 6);
            QCOMPARE(f[0], m[0]);
            // lesion exactly when SAG and COR show the same finding; AX is independent.
            QCOMPARE(m[2] == "lesion", f[2] == f[3]);
            axAgrees += (m[2] == "lesion") == (f[4] == f[2]) ? 1 : 0;
            ++rows;
            // Each view is an MRNet-style uint8 [S, H, W] volume that the loaders open.
            const auto inspect = runCli({"inspect", out + "/" + QString::fromLatin1(m[3 + rows % 3])});
            QVERIFY2(inspect.code == 0, inspect.err.constData());
            const auto info = nlohmann::json::parse(inspect.out.toStdString());
            QCOMPARE(info["format"].get<std::string>(), std::string("npy"));
            QCOMPARE(info["size"], nlohmann::json({6, 40, 40}));  // slices, rows, columns
            QCOMPARE(info["kind"].get<std::string>(), std::string("volume"));
        }
        QCOMPARE(rows, 16);
        QVERIFY(axAgrees > 0 && axAgrees < 16);  // AX neither copies nor contradicts the label

        // Same seed, same bytes.
        const QString again = dir.filePath("knee2");
        QCOMPARE(runCli({"make-synthetic", "--kind", "knee", "--out", again, "--n", "16", "--seed", "2", "--size", "40",
                         "--slices", "6"}).code, 0);
        QFile a(out + "/img/s0003_cor.npy"), b(again + "/img/s0003_cor.npy");
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(a.readAll(), b.readAll());
    }

    void usageErrors()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--n", "abc"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--n", "3"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--bogus", "1"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--kind", "brain"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--kind", "knee", "--slices", "2"}).code, 2);
    }
};

EI_REGISTER_TEST(SyntheticCliTest);
#include "SyntheticCliTest.moc"
