// `eiview-cli make-synthetic`: writes a data set and its counts; usage errors exit 2,
// an existing data set exits 3 and is left untouched.
#include "tests/TestRegistry.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

struct CliRun {
    int code = -1;
    QByteArray out, err;
};

CliRun runCli(const QStringList& args)
{
    QProcess p;
    p.start(ei::test::cliPath(), args);
    p.waitForFinished(600000);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(), p.readAllStandardError()};
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

    void usageErrors()
    {
        QTemporaryDir dir;
        QCOMPARE(runCli({"make-synthetic"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--n", "abc"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--n", "3"}).code, 2);
        QCOMPARE(runCli({"make-synthetic", "--out", dir.filePath("x"), "--bogus", "1"}).code, 2);
    }
};

EI_REGISTER_TEST(SyntheticCliTest);
#include "SyntheticCliTest.moc"
