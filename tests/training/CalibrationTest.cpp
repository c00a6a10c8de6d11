// Calibrated probabilities (models/train/Calibration, Metrics' calibrationSummary): the
// temperature, ECE (15 bins) and Brier score agree with an independent NumPy / SciPy /
// scikit-learn computation on the same logits; a model file's calibration reaches the
// engine's fused probabilities and a malformed one is refused by name.
#include "core/inference/InferenceRunner.h"
#include "core/inference/Uncertainty.h"
#include "models/Error.h"
#include "models/io/EiModelFile.h"
#include "models/train/Calibration.h"
#include "models/train/Metrics.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>

namespace {

struct Case {
    bool multilabel = false;
    std::vector<std::vector<double>> logits;
    std::vector<std::vector<int>> targets;
};

// Outcomes drawn from softmax / sigmoid of true logits; the model's logits are those
// times 2.5: an over-confident model, as fine-tuned networks tend to be.
Case makeCase(bool multilabel, unsigned seed, int n = 300, int classes = 4)
{
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.2);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    Case c;
    c.multilabel = multilabel;
    for (int i = 0; i < n; ++i) {
        std::vector<double> z(static_cast<std::size_t>(classes));
        for (double& v : z)
            v = normal(rng);
        const std::vector<double> p = ei::probabilitiesOf(z, multilabel);
        std::vector<int> y(static_cast<std::size_t>(classes), 0);
        if (multilabel) {
            for (int k = 0; k < classes; ++k)
                y[static_cast<std::size_t>(k)] = uniform(rng) < p[static_cast<std::size_t>(k)] ? 1 : 0;
        } else {
            double u = uniform(rng), acc = 0;
            int k = 0;
            for (; k < classes - 1; ++k)
                if ((acc += p[static_cast<std::size_t>(k)]) > u)
                    break;
            y[static_cast<std::size_t>(k)] = 1;
        }
        for (double& v : z)
            v *= 2.5;
        c.logits.push_back(z);
        c.targets.push_back(y);
    }
    return c;
}

const char* kReference = R"(
import json, sys
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.metrics import brier_score_loss

def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def ece(conf, right, bins=15):
    idx = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for k in range(bins):
        m = idx == k
        if m.any():
            total += m.mean() * abs(right[m].mean() - conf[m].mean())
    return total

def summary(p, y, multilabel):
    if multilabel:
        return ece(p.ravel(), y.ravel().astype(float)), brier_score_loss(y.ravel(), p.ravel())
    top = p.argmax(axis=1)
    right = (y[np.arange(len(y)), top] > 0).astype(float)
    return ece(p.max(axis=1), right), float(((p - y) ** 2).sum(axis=1).mean())

out = []
for c in json.load(open(sys.argv[1])):
    z = np.array(c["logits"]); y = np.array(c["targets"]); ml = c["multilabel"]
    if ml:
        temps = []
        for k in range(z.shape[1]):
            def bce(beta, k=k):
                q = np.clip(sigmoid(beta * z[:, k]), 1e-300, 1 - 1e-16)
                return -np.mean(y[:, k] * np.log(q) + (1 - y[:, k]) * np.log(1 - q))
            temps.append(1.0 / minimize_scalar(bce, bounds=(0.02, 50), method="bounded", options={"xatol": 1e-10}).x)
        p_cal = sigmoid(z / np.array(temps))
        p = sigmoid(z)
    else:
        def nll(beta):
            q = softmax(beta * z)
            return -np.mean(np.log(q[y > 0]))
        temps = [1.0 / minimize_scalar(nll, bounds=(0.02, 50), method="bounded", options={"xatol": 1e-10}).x]
        p_cal = softmax(z / temps[0])
        p = softmax(z)
    out.append({"temperatures": temps, "before": summary(p, y, ml), "after": summary(p_cal, y, ml)})
print(json.dumps(out))
)";

}  // namespace

class CalibrationTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void agreesWithNumPyAndScikitLearn()
    {
        std::vector<Case> cases{makeCase(false, 1), makeCase(false, 2, 120, 3), makeCase(true, 3), makeCase(true, 4, 80, 5)};
        QTemporaryDir dir;
        nlohmann::json input = nlohmann::json::array();
        for (const Case& c : cases)
            input.push_back({{"logits", c.logits}, {"targets", c.targets}, {"multilabel", c.multilabel}});
        const QString path = dir.filePath("cases.json");
        std::ofstream(path.toStdString()) << input.dump();
        QProcess py;
        py.start(ei::test::pythonPath(), {"-c", kReference, path});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const auto ref = nlohmann::json::parse(py.readAllStandardOutput().toStdString());
        QCOMPARE(ref.size(), cases.size());

        for (std::size_t k = 0; k < cases.size(); ++k) {
            const Case& c = cases[k];
            const ei::TemperatureScaling t = ei::fitTemperature(c.logits, c.targets, c.multilabel);
            const auto want = ref[k]["temperatures"].get<std::vector<double>>();
            QCOMPARE(t.temperatures.size(), want.size());
            for (std::size_t i = 0; i < want.size(); ++i) {
                QVERIFY2(std::abs(t.temperatures[i] - want[i]) < 1e-4 * want[i],
                         qPrintable(QString("case %1 T%2: %3 vs %4").arg(k).arg(i).arg(t.temperatures[i]).arg(want[i])));
                QVERIFY(t.temperatures[i] > 1.3);  // over-confident logits are cooled
            }
            std::vector<std::vector<double>> raw;
            for (const auto& z : c.logits)
                raw.push_back(ei::probabilitiesOf(z, c.multilabel));
            const ei::CalibrationSummary before = ei::calibrationSummary(raw, c.targets, c.multilabel);
            const ei::CalibrationSummary after = ei::calibrationSummary(t.probabilities(c.logits), c.targets, c.multilabel);
            QVERIFY(std::abs(before.ece - ref[k]["before"][0].get<double>()) < 1e-9);
            QVERIFY(std::abs(before.brier - ref[k]["before"][1].get<double>()) < 1e-9);
            // The reference's own temperatures differ by < 1e-4: so may the calibrated scores.
            QVERIFY(std::abs(after.ece - ref[k]["after"][0].get<double>()) < 1e-4);
            QVERIFY(std::abs(after.brier - ref[k]["after"][1].get<double>()) < 1e-5);
            QVERIFY2(after.ece < before.ece, qPrintable(QString("case %1").arg(k)));
            QVERIFY(after.brier < before.brier);
            int counted = 0;
            for (const auto& b : before.bins)
                counted += b.count;
            QCOMPARE(counted, static_cast<int>(c.multilabel ? c.logits.size() * c.logits[0].size() : c.logits.size()));
        }
    }

    void aClassWithoutPositivesKeepsTemperatureOne()
    {
        Case c = makeCase(true, 9, 60, 3);
        for (auto& y : c.targets)
            y[2] = 0;
        const ei::TemperatureScaling t = ei::fitTemperature(c.logits, c.targets, true, {"a", "b", "c"});
        QCOMPARE(t.temperatures[2], 1.0);
        QCOMPARE(t.unfittedClasses, std::vector<std::string>{"c"});
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::fitTemperature({}, {}, false));
    }

    void metadataRoundTripAndRefusals()
    {
        ei::TemperatureScaling t;
        t.temperatures = {1.7};
        t.fittedOn = 40;
        const auto back = ei::TemperatureScaling::fromMetadata(t.toJson().dump(), "m.eimodel");
        QCOMPARE(back.temperatures, t.temperatures);
        QCOMPARE(back.fittedOn, 40);
        QVERIFY(ei::TemperatureScaling::fromMetadata("", "m.eimodel").empty());
        for (const char* bad : {"not json", R"({"method": "platt", "temperatures": [1]})",
                                R"({"method": "temperature", "temperatures": [-1]})",
                                R"({"method": "temperature", "temperatures": [1, 2]})"}) {
            try {
                ei::TemperatureScaling::fromMetadata(bad, "m.eimodel");
                QFAIL(bad);
            } catch (const ei::ModelError& e) {
                QVERIFY2(std::string(e.what()).find("m.eimodel") != std::string::npos, e.what());
            }
        }
    }

    void theEngineShowsCalibratedProbabilities()
    {
        QTemporaryDir dir;
        auto model = ei::test::smallModel(ei::test::smallConfigJson("ei"));
        const std::string plain = dir.filePath("plain.eimodel").toStdString();
        const std::string calibrated = dir.filePath("calibrated.eimodel").toStdString();
        ei::EiModelFile::write(plain, *model);
        ei::TemperatureScaling t;
        t.temperatures = {2.0};
        t.fittedOn = 12;
        ei::EiModelWriteOptions options;
        options.calibrationJson = t.toJson().dump();
        ei::EiModelFile::write(calibrated, *model, options);

        const auto inputs = ei::test::smallInputs(model->config());
        std::map<std::string, ei::NpyArray> tensors;
        for (std::size_t m = 0; m < inputs.size(); ++m) {
            const torch::Tensor x = inputs[m].contiguous();
            ei::NpyArray a;
            a.dtype = "f4";
            a.shape = x.sizes().vec();
            a.values.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
            tensors[model->config().modalities[m].name] = std::move(a);
        }
        ei::InferenceRunner a(plain, "cpu"), b(calibrated, "cpu");
        QVERIFY(a.summary().temperatures.empty());
        QCOMPARE(b.summary().temperatures, std::vector<double>{2.0});
        const ei::InferenceResult ra = a.runTensors(tensors, false), rb = b.runTensors(tensors, false);
        QVERIFY(!ra.calibrated() && rb.calibrated());
        QCOMPARE(rb.fusedProbsUncalibrated, ra.fusedProbs);
        std::vector<double> half;
        for (float z : rb.fusedLogits)
            half.push_back(z / 2.0);
        const auto want = ei::probabilitiesOf(half, false);
        for (std::size_t c = 0; c < want.size(); ++c)
            QVERIFY(std::abs(rb.fusedProbs[c] - want[c]) < 1e-6);
        QVERIFY(ei::describeUncertainty(rb).calibrationText.find("temperature 2.00, fitted on 12 validation") != std::string::npos);
        QVERIFY(ei::describeUncertainty(ra).calibrationText.find("Not calibrated") == 0);

        // A calibration of the wrong length for the model is refused when the model loads.
        t.temperatures = {1.0, 2.0, 3.0};
        t.multilabel = true;
        options.calibrationJson = t.toJson().dump();
        const std::string wrong = dir.filePath("wrong.eimodel").toStdString();
        ei::EiModelFile::write(wrong, *model, options);
        QVERIFY_THROWS_EXCEPTION(ei::ModelError, ei::InferenceRunner(wrong, "cpu"));
    }

    void gateEvennessInWords()
    {
        ei::InferenceResult r;
        r.modalities.resize(2);
        r.modalities[0].name = "CFP";
        r.modalities[1].name = "OCT";
        r.gate = {0.5f, 0.5f};
        auto u = ei::describeUncertainty(r);
        QVERIFY(u.gateDefined);
        QVERIFY(std::abs(u.gateEntropy - std::log(2.0)) < 1e-6 && std::abs(u.gateEvenness - 1.0) < 1e-6);
        QCOMPARE(u.gateText, std::string("Weighed CFP and OCT about equally"));
        r.gate = {0.97f, 0.03f};
        u = ei::describeUncertainty(r);
        const double h = -(0.97 * std::log(0.97) + 0.03 * std::log(0.03));
        QVERIFY(std::abs(u.gateEntropy - h) < 1e-6);
        QCOMPARE(u.gateText, std::string("Relied almost only on CFP (0.97)"));
        r.gate = {0.2f, 0.8f};
        QCOMPARE(ei::describeUncertainty(r).gateText, std::string("Leaned on OCT (0.80), the others counted too"));
        r.modalities[1].missing = true;
        r.gate = {1.0f, 0.0f};
        u = ei::describeUncertainty(r);
        QVERIFY(!u.gateDefined);
        QCOMPARE(u.gateText, std::string("Only CFP was available to the fusion"));
    }
};

EI_REGISTER_TEST(CalibrationTest);
#include "CalibrationTest.moc"
