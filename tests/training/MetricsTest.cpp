// Metrics of MODEL.md section 6 against hand-worked cases (with ties) and against
// scikit-learn (Debian's python3-sklearn) on random data with many tied scores.
#include "models/Error.h"
#include "models/train/Metrics.h"
#include "tests/TestRegistry.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

class MetricsTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void handWorkedCases()
    {
        // scikit-learn's documented example: AP 0.8333, AUC 0.75.
        QCOMPARE(*ei::averagePrecision({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.5 * 1.0 + 0.5 * (2.0 / 3.0));
        QCOMPARE(*ei::rocAuc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
        // A tie between a positive and a negative counts half for AUC and moves as one
        // step for AP: thresholds 0.9 (R .5, P 1) then 0.5 (R 1, P 2/3).
        QCOMPARE(*ei::rocAuc({0.9, 0.5, 0.5, 0.1}, {1, 1, 0, 0}), 0.875);
        QVERIFY(std::abs(*ei::averagePrecision({0.9, 0.5, 0.5, 0.1}, {1, 1, 0, 0}) - (0.5 + 0.5 * 2.0 / 3.0)) < 1e-12);
        // All scores tied: AUC 0.5, AP = prevalence.
        QCOMPARE(*ei::rocAuc({0.5, 0.5, 0.5, 0.5}, {1, 0, 1, 0}), 0.5);
        QCOMPARE(*ei::averagePrecision({0.5, 0.5, 0.5, 0.5}, {1, 0, 0, 0}), 0.25);
        // Undefined without positives (AP) or without both kinds (AUC).
        QVERIFY(!ei::averagePrecision({0.1, 0.2}, {0, 0}));
        QVERIFY(!ei::rocAuc({0.1, 0.2}, {1, 1}));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::rocAuc({0.1}, {1, 0}));
    }

    void s2ConfusionAndUndefinedClasses()
    {
        // 3 classes, single-label; class "c" never occurs -> undefined, excluded from means.
        const std::vector<std::vector<double>> p{{0.7, 0.2, 0.1}, {0.6, 0.3, 0.1}, {0.2, 0.7, 0.1}, {0.5, 0.4, 0.1}};
        const std::vector<std::vector<int>> y{{1, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 1, 0}};
        const auto m = ei::evaluateClassification(p, p, y, {"a", "b", "c"}, false);
        QCOMPARE(m.undefined, std::vector<std::string>{"c"});
        QVERIFY(!m.ap[2] && !m.auc[2] && !m.s2[2]);
        // Predictions a, a, b, a: class a sens 1, spec 1/2 -> S2 2/3; class b sens 1/2, spec 1 -> 2/3.
        QVERIFY(std::abs(*m.s2[0] - 2.0 / 3.0) < 1e-12);
        QVERIFY(std::abs(*m.s2[1] - 2.0 / 3.0) < 1e-12);
        QVERIFY(std::abs(*m.mS2 - 2.0 / 3.0) < 1e-12);
        QCOMPARE(m.confusion[0], (std::vector<int>{2, 0, 0}));
        QCOMPARE(m.confusion[1], (std::vector<int>{1, 1, 0}));
        // Class a scores: 0.7, 0.6 positive; 0.2, 0.5 negative -> AP 1, AUC 1; class b:
        // 0.7 (pos), 0.4 (pos), 0.3, 0.2 -> AP 1, AUC 1.
        QCOMPARE(*m.mAP, 1.0);
        QCOMPARE(*m.mAUC, 1.0);
        const auto j = m.toJson();
        QVERIFY(j["per_class"]["AP"][2].is_null());
        QCOMPARE(j["undefined"][0].get<std::string>(), std::string("c"));
        QCOMPARE(j["n"].get<int>(), 4);

        // Multi-label: p >= 0.5 predicts (0.5 itself is positive).
        const std::vector<std::vector<double>> q{{0.5, 0.1}, {0.4, 0.9}, {0.2, 0.6}};
        const std::vector<std::vector<int>> z{{1, 0}, {0, 1}, {1, 1}};
        const auto ml = ei::evaluateClassification(q, q, z, {"x", "y"}, true);
        // x: TP 1 (0.5), FN 1 (0.2), TN 1 -> sens .5 spec 1 -> S2 2/3. y: no negative... has one (row 0): TN 1, TP 2.
        QCOMPARE(ml.confusion[0], (std::vector<int>{1, 0, 1, 1}));
        QVERIFY(std::abs(*ml.s2[0] - 2.0 / 3.0) < 1e-12);
        QCOMPARE(ml.confusion[1], (std::vector<int>{1, 0, 0, 2}));
        QCOMPARE(*ml.s2[1], 1.0);
    }

    void agreesWithScikitLearn()
    {
        QProcess probe;
        probe.start(ei::test::pythonPath(), {"-c", "import sklearn"});
        probe.waitForFinished(60000);
        QVERIFY2(probe.exitCode() == 0, "python3-sklearn is missing (scripts/run-tests.sh installs it)");

        std::mt19937 rng(7);
        std::uniform_int_distribution<int> level(0, 9);  // 10 score levels: many ties
        std::bernoulli_distribution coin(0.35);
        QTemporaryDir dir;
        nlohmann::json cases = nlohmann::json::array();
        std::vector<std::pair<std::vector<double>, std::vector<int>>> data;
        for (int k = 0; k < 20; ++k) {
            const int n = 5 + 7 * k;
            std::vector<double> s(n);
            std::vector<int> y(n);
            for (int i = 0; i < n; ++i) {
                s[i] = level(rng) / 10.0;
                y[i] = coin(rng) ? 1 : 0;
            }
            y[0] = 1;
            y[1] = 0;
            data.emplace_back(s, y);
            cases.push_back({{"s", s}, {"y", y}});
        }
        const QString input = dir.filePath("cases.json");
        std::ofstream(input.toStdString()) << cases.dump();
        const char* script = R"(
import json, sys
from sklearn.metrics import average_precision_score, roc_auc_score
cases = json.load(open(sys.argv[1]))
print(json.dumps([[average_precision_score(c["y"], c["s"]), roc_auc_score(c["y"], c["s"])] for c in cases]))
)";
        QProcess py;
        py.start(ei::test::pythonPath(), {"-c", script, input});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const auto ref = nlohmann::json::parse(py.readAllStandardOutput().toStdString());
        QCOMPARE(ref.size(), data.size());
        for (std::size_t k = 0; k < data.size(); ++k) {
            const double ap = *ei::averagePrecision(data[k].first, data[k].second);
            const double auc = *ei::rocAuc(data[k].first, data[k].second);
            QVERIFY2(std::abs(ap - ref[k][0].get<double>()) < 1e-12, qPrintable(QString("case %1 AP").arg(k)));
            QVERIFY2(std::abs(auc - ref[k][1].get<double>()) < 1e-12, qPrintable(QString("case %1 AUC").arg(k)));
        }
    }
};

EI_REGISTER_TEST(MetricsTest);
#include "MetricsTest.moc"
