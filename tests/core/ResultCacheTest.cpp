// The result cache: a hit only for the same files (path, size, modification time),
// model fingerprint and device; the oldest entry goes first when it is full.
#include "core/inference/ResultCache.h"
#include "tests/TestRegistry.h"

#include <QDateTime>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace ei;

class ResultCacheTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void keysFollowFilesModelAndDevice()
    {
        QTemporaryDir dir;
        const QString a = dir.filePath("a.png");
        QFile f(a);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("1234");
        f.close();
        const std::vector<std::pair<std::string, std::string>> slots{{"CFP", a.toStdString()}};
        const std::string k = ResultCache::key(slots, "fp1", "cpu");
        QCOMPARE(ResultCache::key(slots, "fp1", "cpu"), k);
        QVERIFY(ResultCache::key(slots, "fp2", "cpu") != k);
        QVERIFY(ResultCache::key(slots, "fp1", "cuda:0") != k);
        QVERIFY(ResultCache::key({{"OCT", a.toStdString()}}, "fp1", "cpu") != k);
        QVERIFY(f.open(QIODevice::Append));
        f.write("5");  // the file changed on disk: a different study
        f.close();
        QVERIFY(ResultCache::key(slots, "fp1", "cpu") != k);
    }

    void evictsTheOldest()
    {
        ResultCache cache(2);
        auto r1 = std::make_shared<InferenceResult>(), r2 = std::make_shared<InferenceResult>(),
             r3 = std::make_shared<InferenceResult>();
        cache.insert("1", r1);
        cache.insert("2", r2);
        QCOMPARE(cache.find("1"), std::shared_ptr<const InferenceResult>(r1));  // "1" is now the newest
        cache.insert("3", r3);
        QCOMPARE(cache.size(), std::size_t(2));
        QVERIFY(!cache.find("2"));
        QVERIFY(cache.find("1"));
        QVERIFY(cache.find("3"));
    }
};

EI_REGISTER_TEST(ResultCacheTest);
#include "ResultCacheTest.moc"
