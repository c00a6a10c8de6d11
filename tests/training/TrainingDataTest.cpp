// How training reads its data (issue 17: a rank reads only its shard): examples read on
// demand and kept within a byte budget, the same model whatever the budget, and the data
// set identified for resume by its rows and file contents, not by decoded images.
#include "core/data/SyntheticData.h"
#include "core/training/TrainingJob.h"
#include "models/Error.h"
#include "models/JobControl.h"
#include "models/io/Safetensors.h"
#include "models/train/TrainingExamples.h"
#include "tests/TestRegistry.h"
#include "tests/training/InterruptedRun.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

namespace {

nlohmann::json tinyConfig(int epochs)
{
    return {{"model",
             {{"backbone", {{"family", "dinov2"}, {"patch_size", 16}, {"embed_dim", 32}, {"depth", 2}, {"num_heads", 2},
                            {"pos_grid", {2, 2}}, {"num_register_tokens", 0}}},
              {"modalities", {{{"name", "CFP"}, {"size", {32, 32}}}, {{"name", "OCT"}, {"size", {32, 32}}}}},
              {"fusion", "ei"},
              {"adapter", {{"hidden", 8}}}}},
            {"seed", 5},
            {"batch_size", 4},
            {"max_epochs", epochs},
            {"patience", 50},
            {"threads", 1},
            {"calibrate", false}};
}

// A synthetic CFP + OCT data set of `studies` 32 x 32 studies in DIR/data; its manifest.
std::string syntheticData(const QTemporaryDir& dir, int studies)
{
    ei::SyntheticOptions o;
    o.studies = studies;
    o.size = 32;
    ei::writeSyntheticDataset(dir.filePath("data").toStdString(), o);
    return dir.filePath("data/manifest.csv").toStdString();
}

// The OCT image (last column) of every train row of a manifest, as full paths.
QStringList trainImages(const std::string& manifest)
{
    const QString folder = QFileInfo(QString::fromStdString(manifest)).absolutePath();
    QStringList out;
    std::ifstream in(manifest);
    for (std::string line; std::getline(in, line);)
        if (line.find(",train,") != std::string::npos)
            out << folder + "/" + QString::fromStdString(line.substr(line.rfind(',') + 1));
    return out;
}

std::vector<nlohmann::json> validations(const QString& runDir)
{
    std::vector<nlohmann::json> out;
    std::ifstream in((runDir + "/progress.jsonl").toStdString());
    std::string line;
    while (std::getline(in, line)) {
        const auto e = nlohmann::json::parse(line);
        if (e["event"] == "validation" && e["epoch"].get<int>() > 0)
            out.push_back(e);
    }
    return out;
}

void expectSameModel(const QString& a, const QString& b)
{
    const auto x = ei::readSafetensors(a.toStdString()), y = ei::readSafetensors(b.toStdString());
    QCOMPARE(x.tensors.size(), y.tensors.size());
    for (const auto& [name, t] : x.tensors)
        QVERIFY2(torch::equal(t, y.tensors.at(name)), name.c_str());
}

}  // namespace

class TrainingDataTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void examplesAreReadOnceWhileTheyFitTheBudget()
    {
        ei::TrainingData data;
        int reads = 0;
        for (int i = 0; i < 4; ++i)
            data.train.push_back({{}, {}, torch::tensor({float(i)})});
        data.readTrain = [&reads](std::size_t i) {
            ++reads;
            return std::vector<torch::Tensor>{torch::full({1, 1, 8, 8}, float(i))};  // 256 bytes
        };
        ei::TrainingExamples twoFit(data, 600);
        QCOMPARE(twoFit.raw(1)[0].max().item<float>(), 1.0f);
        twoFit.raw(2);
        twoFit.raw(1);  // held
        QCOMPARE(reads, 2);
        QCOMPARE(twoFit.heldBytes(), std::size_t(512));
        twoFit.raw(3);  // 2 is the least recently used: it goes
        twoFit.raw(1);
        QCOMPARE(reads, 3);
        twoFit.raw(2);
        QCOMPARE(reads, 4);
        QCOMPARE(twoFit.takeReads(), 4LL);
        QCOMPARE(twoFit.takeReads(), 0LL);
        QCOMPARE(twoFit.target(3).item<float>(), 3.0f);

        ei::TrainingExamples none(data, 0);  // every use reads
        none.raw(0);
        none.raw(0);
        QCOMPARE(none.takeReads(), 2LL);
        QCOMPARE(none.heldBytes(), std::size_t(0));

        // Examples held in memory are never "read".
        ei::TrainingData held;
        held.train.push_back({{torch::ones({1, 1, 2, 2})}, {}, torch::tensor({1.0f})});
        ei::TrainingExamples inMemory(held, 0);
        QCOMPARE(inMemory.raw(0)[0].sum().item<float>(), 4.0f);
        QCOMPARE(inMemory.takeReads(), 0LL);
    }

    void theModelDoesNotDependOnTheCache()
    {
        QTemporaryDir dir;
        ei::TrainingRequest request;
        request.manifestPath = syntheticData(dir, 20);
        request.configJson = tinyConfig(2).dump();
        request.outDir = dir.filePath("cached").toStdString();
        ei::runTraining(request, {});
        request.outDir = dir.filePath("uncached").toStdString();
        request.dataCacheMb = 0;
        ei::runTraining(request, {});
        expectSameModel(dir.filePath("cached/model.eimodel"), dir.filePath("uncached/model.eimodel"));

        // Read once and kept, against read for every epoch.
        const int train = static_cast<int>(trainImages(request.manifestPath).size());
        const auto cached = validations(dir.filePath("cached")), uncached = validations(dir.filePath("uncached"));
        QCOMPARE(cached.size(), std::size_t(6));  // two epochs of three stages
        QCOMPARE(uncached.size(), cached.size());
        for (std::size_t i = 0; i < cached.size(); ++i) {
            QCOMPARE(uncached[i]["examples_read"].get<int>(), train);
            QCOMPARE(cached[i]["examples_read"].get<int>(), i == 0 ? train : 0);  // one cache for every stage
        }
    }

    void anImageBrokenDuringTrainingIsNamed()
    {
        // The images are checked before training and read again by the batches: one that
        // breaks in between stops the run with its name, and the last checkpoint resumes.
        QTemporaryDir dir;
        ei::TrainingRequest request;
        request.manifestPath = syntheticData(dir, 16);
        const QString victim = trainImages(request.manifestPath).value(0);
        QFile f(victim);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray good = f.readAll();
        f.close();
        request.configJson = tinyConfig(2).dump();
        request.outDir = dir.filePath("run").toStdString();
        request.dataCacheMb = 0;
        try {
            ei::runTraining(request, [&](const std::string& line) {
                const auto e = nlohmann::json::parse(line);
                if (e["event"] == "validation" && e["epoch"] == 1) {  // epoch 2 reads it again
                    QFile broken(victim);
                    broken.open(QIODevice::WriteOnly | QIODevice::Truncate);
                    broken.write("no longer an image");
                }
            });
            QFAIL("trained on a broken image");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains(victim), e.what());
        }
        QVERIFY(!QFile::exists(dir.filePath("run/model.eimodel")));
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(good);
        f.close();
        request.resume = true;
        ei::runTraining(request, {});
        QVERIFY(QFile::exists(dir.filePath("run/model.eimodel")));
    }

    void resumeChecksTheFilesNotTheirPlace()
    {
        QTemporaryDir dir;
        ei::TrainingRequest request;
        request.manifestPath = syntheticData(dir, 16);
        auto config = tinyConfig(2);
        config["model"]["fusion"] = "late";
        request.configJson = config.dump();
        request.outDir = dir.filePath("run").toStdString();
        request.dataCacheMb = 0;
        ei::test::interruptedRun(request);
        if (QTest::currentTestFailed())
            return;
        const QString checkpoint = dir.filePath("run/checkpoint.safetensors");
        const auto state = [&checkpoint] {
            return nlohmann::json::parse(ei::readSafetensors(checkpoint.toStdString()).metadata.at("state"));
        };
        QCOMPARE(state()["data_fingerprint_kind"].get<std::string>(), std::string("files"));

        // The data set moved to another folder is the same data set.
        QVERIFY(QDir().rename(dir.filePath("data"), dir.filePath("moved")));
        request.manifestPath = dir.filePath("moved/manifest.csv").toStdString();
        request.resume = true;
        QFile::copy(checkpoint, dir.filePath("saved.safetensors"));
        ei::runTraining(request, {});
        QVERIFY(QFile::exists(dir.filePath("run/model.eimodel")));

        // One training image with other content (the same name) is another data set.
        QFile::remove(checkpoint);
        QFile::copy(dir.filePath("saved.safetensors"), checkpoint);
        const QStringList images = trainImages(request.manifestPath);
        QVERIFY(images.size() >= 2);
        QFile first(images[0]);
        QVERIFY(first.open(QIODevice::ReadOnly));
        const QByteArray before = first.readAll();
        first.close();
        QVERIFY(QFile::remove(images[0]) && QFile::copy(images[1], images[0]));
        try {
            ei::runTraining(request, {});
            QFAIL("resumed on a changed image");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("another data set"), e.what());
        }
        QVERIFY(first.open(QIODevice::WriteOnly));
        first.write(before);
        first.close();

        // A checkpoint of an older EIView (its fingerprint made from the tensors) is named
        // as such, and resumes when asked to.
        auto file = ei::readSafetensors(checkpoint.toStdString());
        auto old = nlohmann::json::parse(file.metadata.at("state"));
        old.erase("data_fingerprint_kind");
        old["data_fingerprint"] = "0123";
        file.metadata["state"] = old.dump();
        ei::writeSafetensors(checkpoint.toStdString(), file.tensors, file.metadata);
        try {
            ei::runTraining(request, {});
            QFAIL("resumed on an uncheckable data set");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("identified by another rule") && QString(e.what()).contains("--resume-other-data"),
                     e.what());
        }
        request.resumeOnOtherData = true;
        ei::runTraining(request, {});
    }
};

#include "TrainingDataTest.moc"
EI_REGISTER_TEST(TrainingDataTest);
