// The wizard's values without the wizard (core/training/FineTuneSettings): the paper's
// defaults, the TRAIN.json they make (which the trainer's own parser accepts), what
// validate() refuses, and the data-set check on a worker (problems by row; a newer
// manifest replaces an older check).
#include "core/data/Manifest.h"
#include "core/training/FineTuneSettings.h"
#include "models/train/TrainConfig.h"
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using namespace ei;

class FineTuneSettingsTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    QString backbone_;

private Q_SLOTS:
    void initTestCase()
    {
        backbone_ = test::writeTinyTrainingSet(dir_.path(), 12);
    }

    void defaultsAreThePapersRecipe()
    {
        FineTuneSettings s;
        QCOMPARE(s.recipe.batchSize, 8);
        QCOMPARE(s.recipe.maxEpochs, 200);
        QCOMPARE(s.recipe.patience, 10);
        QCOMPARE(s.recipe.optimizer, QString("sgd"));
        QCOMPARE(s.recipe.momentum, 0.95);
        QCOMPARE(s.recipe.lambda1, 0.3);
        QCOMPARE(s.recipe.lambda2, 0.1);
        QCOMPARE(s.fusion, QString("ei"));
        QCOMPARE(s.inputSize("CFP"), 448);
        // Nothing chosen yet: validate says what is missing.
        const QStringList problems = s.validate();
        QVERIFY(problems.join('\n').contains("no data set"));
        QVERIFY(problems.join('\n').contains("backbone"));
    }

    void checksTheManifestOnAWorker()
    {
        FineTuneSettings s;
        std::ofstream(dir_.filePath("bad.csv").toStdString()) << "id,split,label,CFP\n1,train,x,data/img/none.png\n";
        QSignalSpy checked(&s, &FineTuneSettings::manifestChecked);
        s.setManifestPath(dir_.filePath("bad.csv"));
        QVERIFY(s.isCheckingManifest());
        QTRY_VERIFY(!s.isCheckingManifest());
        QVERIFY(s.manifestProblems().size() >= 2);
        QVERIFY(s.manifestProblems().first().startsWith("row 2"));
        QVERIFY(!s.manifestReady());

        // A newer manifest wins even when the older check would finish later.
        s.setManifestPath(dir_.filePath("bad.csv"));
        s.setManifestPath(dir_.filePath("data/manifest.csv"));
        QTRY_VERIFY_WITH_TIMEOUT(!s.isCheckingManifest(), 60000);
        QVERIFY2(s.manifestReady(), qPrintable(s.manifestProblems().join('\n')));
        QCOMPARE(s.modalities(), QStringList({"CFP", "OCT"}));
        QCOMPARE(QString::fromStdString(s.manifest()->path()), dir_.filePath("data/manifest.csv"));

        s.setManifestPath(dir_.filePath("missing.csv"));
        QVERIFY(!s.isCheckingManifest());
        QVERIFY(s.manifestProblems().first().contains("missing.csv"));
    }

    void makesTheTrainConfigTheTrainerReads()
    {
        FineTuneSettings s;
        s.setManifestPath(dir_.filePath("data/manifest.csv"));
        QTRY_VERIFY_WITH_TIMEOUT(!s.isCheckingManifest(), 60000);
        s.setBackbonePath(backbone_);
        QVERIFY(s.backboneDescription().startsWith("dinov2, patch 16"));
        s.setInputSize("CFP", 32);
        s.setInputSize("OCT", 48);
        s.fusion = "late";
        s.ranks = "2, 4";
        s.insertLayer = 1;
        s.recipe.maxEpochs = 3;
        s.recipe.optimizer = "adamw";
        s.recipe.flip = false;
        QCOMPARE(s.validate(), QStringList());

        const auto j = nlohmann::json::parse(s.toTrainConfigJson().toStdString());
        QCOMPARE(j["model"]["fusion"].get<std::string>(), std::string("late"));
        QCOMPARE(j["model"]["modalities"][1]["size"][0].get<int>(), 48);
        QCOMPARE(j["model"]["mor"]["ranks"], nlohmann::json({2, 4}));
        QCOMPARE(j["model"]["mor"]["alphas"], nlohmann::json({4, 8}));
        QCOMPARE(j["model"]["int"]["insert_layer"].get<int>(), 1);
        QVERIFY(!j["model"]["int"].contains("acquire_layer"));  // 0: the default, left out
        QCOMPARE(j["max_epochs"].get<int>(), 3);
        QCOMPARE(j["optimizer"]["kind"].get<std::string>(), std::string("adamw"));
        QCOMPARE(j["augment"]["flip"].get<bool>(), false);
        // The trainer's own parser takes it as it is.
        const TrainConfig parsed = TrainConfig::fromJson(j, "wizard");
        QCOMPARE(parsed.maxEpochs, 3);

        const TrainingRequest r = s.request(dir_.filePath("run"));
        QCOMPARE(QString::fromStdString(r.backbonePath), backbone_);
        QCOMPARE(QString::fromStdString(r.configJson), s.toTrainConfigJson());
        QVERIFY(s.defaultRunFolder().startsWith(dir_.filePath("data/runs/run-")));
    }

    void validateRefusesWhatCannotRun()
    {
        FineTuneSettings s;
        s.setManifestPath(dir_.filePath("data/manifest.csv"));
        QVERIFY(s.validate().join('\n').contains("still being checked"));
        QTRY_VERIFY_WITH_TIMEOUT(!s.isCheckingManifest(), 60000);
        s.setBackbonePath(dir_.filePath("data/manifest.csv"));  // not a backbone
        QVERIFY(!s.backboneProblem().isEmpty());
        s.setBackbonePath(backbone_);
        s.ranks = "2,x";
        s.setInputSize("CFP", 8);  // below the patch
        s.recipe.baseLr = 0.1;     // above the peak
        const QString problems = s.validate().join('\n');
        QVERIFY2(problems.contains("'x' is not a positive whole number"), qPrintable(problems));
        QVERIFY(problems.contains("CFP: input size 8 is smaller than the patch (16)"));
        QVERIFY(problems.contains("base learning rate"));
    }
};

EI_REGISTER_TEST(FineTuneSettingsTest);
#include "FineTuneSettingsTest.moc"
