// Training loss terms (MODEL.md section 5) against an independent PyTorch reference
// (Debian's python3-torch, fixed inputs), and the detach rule: the fused term and
// L_gate reach only the gate.
#include "models/train/Loss.h"
#include "models/io/NpyFile.h"
#include "tests/TestRegistry.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

void save(const QTemporaryDir& dir, const char* name, const torch::Tensor& t)
{
    const auto c = t.detach().to(torch::kFloat).contiguous();
    ei::writeNpy(dir.filePath(name).toStdString(), c.sizes().vec(), c.data_ptr<float>());
}

const char* kReference = R"(
import json, sys, numpy as np, torch, torch.nn.functional as F
d = sys.argv[1]; multilabel = sys.argv[2] == "1"; gaps = json.loads(sys.argv[3])
L = lambda n: torch.from_numpy(np.load(f"{d}/{n}.npy")).double()
y = L("y"); p = [L("p0"), L("p1")]; a = [L("a0"), L("a1")]; cls = [L("c0"), L("c1")]
W = L("gw"); b = L("gb")
crit = (lambda z, t: F.binary_cross_entropy_with_logits(z, t)) if multilabel else (lambda z, t: F.cross_entropy(z, t.argmax(1)))
alpha = torch.softmax(torch.cat(cls, 1) @ W.T + b, 1)
fused = sum(alpha[:, m:m+1] * p[m] for m in range(2))
ce = torch.stack([-(y * torch.log_softmax(p[m], 1)).sum(1) * gaps[m] for m in range(2)], 1)
target = ce.argmin(1)
gate = F.nll_loss(torch.log(alpha + 1e-8), target)
out = {"fused": crit(fused, y).item(), "primary": sum(crit(z, y) for z in p).item(),
       "aux": sum(crit(z, y) for z in a).item(), "gate": gate.item(), "target": target.tolist()}
out["total"] = out["fused"] + out["primary"] + 0.3 * out["aux"] + 0.1 * out["gate"]
print(json.dumps(out))
)";

}  // namespace

class LossTest : public QObject {
    Q_OBJECT
private:
    void compareWithReference(bool multilabel)
    {
        torch::manual_seed(3);
        const int B = 6, C = 3, d = 4;
        torch::Tensor y;
        if (multilabel) {
            y = (torch::rand({B, C}) > 0.5).to(torch::kFloat);
            y[0].zero_();  // an all-normal row: target ties go to modality 0
        } else {
            y = torch::one_hot(torch::tensor({0, 1, 2, 1, 0, 2}), C).to(torch::kFloat);
        }
        std::vector<torch::Tensor> p{torch::randn({B, C}) * 2, torch::randn({B, C}) * 2};
        const std::vector<torch::Tensor> a{torch::randn({B, C}), torch::randn({B, C})};
        const std::vector<torch::Tensor> cls{torch::randn({B, d}), torch::randn({B, d})};
        const auto gw = torch::randn({2, 2 * d}) * 0.5, gb = torch::randn({2}) * 0.1;
        const std::vector<double> gaps = multilabel ? std::vector<double>{1, 1} : std::vector<double>{1, 0.001};

        ei::LossOptions options;
        options.multilabel = multilabel;
        options.priorGaps = gaps;
        const auto alpha = ei::trainingGate(cls, gw, gb);
        const auto terms = ei::fusionLoss(p, a, alpha, y, options);

        QTemporaryDir dir;
        save(dir, "y.npy", y);
        save(dir, "p0.npy", p[0]);
        save(dir, "p1.npy", p[1]);
        save(dir, "a0.npy", a[0]);
        save(dir, "a1.npy", a[1]);
        save(dir, "c0.npy", cls[0]);
        save(dir, "c1.npy", cls[1]);
        save(dir, "gw.npy", gw);
        save(dir, "gb.npy", gb);
        QProcess py;
        py.start(ei::test::pythonPath(),
                 {"-c", kReference, dir.path(), multilabel ? "1" : "0", QString::fromStdString(nlohmann::json(gaps).dump())});
        QVERIFY(py.waitForFinished(120000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const auto ref = nlohmann::json::parse(py.readAllStandardOutput().toStdString());
        for (const char* key : {"fused", "primary", "aux", "gate", "total"}) {
            const torch::Tensor ours = std::string(key) == "fused" ? terms.fused
                                     : std::string(key) == "primary" ? terms.primary
                                     : std::string(key) == "aux" ? terms.aux
                                     : std::string(key) == "gate" ? terms.gate : terms.total;
            QVERIFY2(std::abs(ours.item<double>() - ref[key].get<double>()) < 1e-5,
                     qPrintable(QString("%1: ours %2, reference %3").arg(key).arg(ours.item<double>()).arg(ref[key].get<double>())));
        }
        const auto targets = ref["target"].get<std::vector<std::int64_t>>();
        QCOMPARE(std::vector<std::int64_t>(terms.gateTarget.data_ptr<std::int64_t>(),
                                           terms.gateTarget.data_ptr<std::int64_t>() + B),
                 targets);
    }

private Q_SLOTS:
    void singleLabelMatchesPyTorchReference() { compareWithReference(false); }
    void multiLabelMatchesPyTorchReference() { compareWithReference(true); }

    void fusedAndGateTermsTrainOnlyTheGate()
    {
        torch::manual_seed(5);
        auto p0 = torch::randn({4, 2}).requires_grad_(), p1 = torch::randn({4, 2}).requires_grad_();
        auto c0 = torch::randn({4, 3}).requires_grad_(), c1 = torch::randn({4, 3}).requires_grad_();
        auto gw = torch::randn({2, 6}).requires_grad_(), gb = torch::zeros({2}).requires_grad_();
        const auto y = torch::one_hot(torch::tensor({0, 1, 1, 0}), 2).to(torch::kFloat);
        const auto terms = ei::fusionLoss({p0, p1}, {}, ei::trainingGate({c0, c1}, gw, gb), y, {});
        (terms.fused + terms.gate).backward();
        QVERIFY(!p0.grad().defined() || p0.grad().abs().sum().item<double>() == 0);
        QVERIFY(!c0.grad().defined() || c0.grad().abs().sum().item<double>() == 0);
        QVERIFY(gw.grad().abs().sum().item<double>() > 0);
        // The primary term does reach the primary logits.
        terms.primary.backward();
        QVERIFY(p1.grad().abs().sum().item<double>() > 0);
        QCOMPARE(terms.aux.item<double>(), 0.0);  // late fusion: no auxiliary heads
    }
};

EI_REGISTER_TEST(LossTest);
#include "LossTest.moc"
