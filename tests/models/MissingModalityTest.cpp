// A study with a modality missing (docs/model.md "Missing modalities"): the present
// modalities run without the absent one's INT token, the gate is renormalised over them.
// Checked against an independently built model that never had the absent modality: the
// same tensors, renumbered, with the gate's rows and column blocks of the absent one cut.
#include "models/ei/EiModel.h"
#include "models/Error.h"
#include "models/train/Loss.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <QtTest>

using ei::test::findMap;
using ei::test::smallBackboneJson;
using ei::test::smallInputs;
using ei::test::smallModel;

namespace {

nlohmann::json threeModalities(const std::string& fusion)
{
    return {{"backbone", smallBackboneJson()},
            {"modalities",
             {{{"name", "A"}, {"kind", "image"}, {"size", {42, 42}}},
              {{"name", "B"}, {"kind", "image"}, {"size", {56, 42}}},
              {{"name", "C"}, {"kind", "image"}, {"size", {42, 42}}}}},
            {"classes", {"x", "y", "z"}},
            {"fusion", fusion},
            {"adapter", {{"hidden", 16}}}};
}

std::string renumbered(const std::string& name, const std::map<int, int>& newIndex)
{
    // mor.<role>.<m>.…, head.<role>.<m>.…, adapter.<t>.<r>.…
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', start)) {
        parts.push_back(name.substr(start, dot - start));
        start = dot + 1;
    }
    parts.push_back(name.substr(start));
    auto map = [&](std::string& s) {
        const auto it = newIndex.find(std::stoi(s));
        if (it == newIndex.end())
            return false;
        s = std::to_string(it->second);
        return true;
    };
    bool keep = true;
    if (parts[0] == "mor" || parts[0] == "head")
        keep = map(parts[2]);
    else if (parts[0] == "adapter")
        keep = map(parts[1]) && map(parts[2]);
    if (!keep)
        return {};
    std::string out;
    for (const auto& p : parts)
        out += (out.empty() ? "" : ".") + p;
    return out;
}

// The model without modality `drop`: the same backbone and tensors, renumbered.
std::shared_ptr<ei::EiModel> without(const ei::EiModel& full, int drop)
{
    nlohmann::json config = full.config().toJson();
    config["modalities"].erase(static_cast<std::size_t>(drop));
    std::map<int, int> newIndex;
    std::vector<std::int64_t> kept;
    for (int m = 0, k = 0; m < full.config().numModalities(); ++m)
        if (m != drop) {
            newIndex[m] = k++;
            kept.push_back(m);
        }
    const std::int64_t d = full.config().backbone.embedDim;
    std::map<std::string, torch::Tensor> params;
    for (const auto& [name, t] : full.parameters()) {
        if (name == "gate.weight") {
            const torch::Tensor rows = t.index_select(0, torch::tensor(kept));
            std::vector<torch::Tensor> blocks;
            for (auto m : kept)
                blocks.push_back(rows.narrow(1, m * d, d));
            params[name] = torch::cat(blocks, 1).clone();
        } else if (name == "gate.bias") {
            params[name] = t.index_select(0, torch::tensor(kept)).clone();
        } else if (const std::string n = renumbered(name, newIndex); !n.empty()) {
            params[n] = t.clone();
        }
    }
    return std::make_shared<ei::EiModel>(ei::ModelConfig::fromJson(config, "subset"), full.sharedBackbone(), params,
                                         "subset");
}

float maxDiff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).abs().max().item<float>();
}

}  // namespace

class MissingModalityTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void missingModalityEqualsAModelWithoutIt_data()
    {
        QTest::addColumn<QString>("fusion");
        QTest::newRow("ei") << "ei";
        QTest::newRow("late") << "late";
    }

    void missingModalityEqualsAModelWithoutIt()
    {
        QFETCH(QString, fusion);
        auto full = smallModel(threeModalities(fusion.toStdString()));
        auto subset = without(*full, 1);
        torch::InferenceMode guard;
        auto xs = smallInputs(full->config());
        for (auto& x : xs)
            x = torch::cat({x, x.flip(3)}, 0);  // a batch of two
        std::vector<torch::Tensor> partial = xs;
        partial[1] = torch::Tensor();
        const ei::EiOutputs got = full->forward(partial, true);
        const ei::EiOutputs want = subset->forward({xs[0], xs[2]}, true);

        QCOMPARE(got.present, (std::vector<bool>{true, false, true}));
        QVERIFY(!got.logits[1].defined() && !got.probs[1].defined() && got.maps[1].empty());
        QVERIFY(maxDiff(got.fused, want.fused) < 1e-5f);
        QVERIFY(maxDiff(got.fusedProbs, want.fusedProbs) < 1e-6f);
        QCOMPARE(got.gate.sizes().vec(), (std::vector<std::int64_t>{2, 3}));
        QCOMPARE(got.gate.select(1, 1).abs().max().item<float>(), 0.0f);
        QVERIFY(maxDiff(got.gate.index_select(1, torch::tensor({0, 2})), want.gate) < 1e-6f);
        for (int k : {0, 1}) {
            const int m = k == 0 ? 0 : 2;
            QVERIFY(maxDiff(got.logits[m], want.logits[k]) < 1e-5f);
            if (fusion == "ei")
                QVERIFY(maxDiff(got.auxLogits[m], want.auxLogits[k]) < 1e-5f);
            QCOMPARE(got.maps[m].size(), want.maps[k].size());
            for (std::size_t i = 0; i < want.maps[k].size(); ++i) {
                QCOMPARE(got.maps[m][i].kind, want.maps[k][i].kind);
                QVERIFY(maxDiff(got.maps[m][i].values, want.maps[k][i].values) < 1e-5f);
            }
        }
        // No INT map from the absent modality.
        QVERIFY(!findMap(got.maps[0], "int_B"));
        if (fusion == "ei")
            QVERIFY(findMap(got.maps[0], "int_C"));
    }

    void aloneAModalityRunsWithoutInt()
    {
        // Two modalities, one missing: the other runs its primary pass without INT, which is
        // exactly the no-INT pass of a full run, and the gate gives it everything.
        auto model = smallModel(ei::test::smallConfigJson("ei", /*volume=*/true));
        torch::InferenceMode guard;
        const auto xs = smallInputs(model->config());
        const ei::EiOutputs full = model->forward(xs, true);
        for (int keep : {0, 1}) {
            std::vector<torch::Tensor> partial(2);
            partial[static_cast<std::size_t>(keep)] = xs[static_cast<std::size_t>(keep)];
            const ei::EiOutputs alone = model->forward(partial, true);
            QCOMPARE(alone.gate[0][keep].item<float>(), 1.0f);
            QCOMPARE(alone.gate[0][1 - keep].item<float>(), 0.0f);
            QVERIFY(maxDiff(alone.fused, alone.logits[keep]) < 1e-6f);
            const auto& maps = alone.maps[static_cast<std::size_t>(keep)];
            QCOMPARE(maps.size(), std::size_t(1));  // cls only: no INT, nothing to compare with
            const ei::EiMap* noint = findMap(full.maps[static_cast<std::size_t>(keep)], "cls_noint");
            QVERIFY(noint && maxDiff(maps[0].values, noint->values) < 1e-5f);
            QVERIFY(maxDiff(alone.auxLogits[keep], full.auxLogits[keep]) < 1e-6f);
        }
    }

    void everyModalityMissingIsRefused()
    {
        auto model = smallModel(ei::test::smallConfigJson("ei"));
        torch::InferenceMode guard;
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, model->forward({torch::Tensor(), torch::Tensor()}));
        auto uni = smallModel(ei::test::smallConfigJson("unimodal"));
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, uni->forward({torch::Tensor()}));
    }

    void trainingWithAModalityDroppedReachesOnlyThePresentOnes()
    {
        // The fine-tuning loss of a batch with OCT dropped: finite, and no gradient reaches
        // OCT's MoR, heads, or the adapters that would have carried its INT token.
        auto model = smallModel(ei::test::smallConfigJson("ei"));
        for (auto& [name, t] : model->parameters())
            t.requires_grad_(true);
        auto xs = smallInputs(model->config());
        xs[1] = torch::Tensor();
        const ei::EiOutputs out = model->forward(xs);
        const torch::Tensor target = torch::tensor({{0.0f, 1.0f, 0.0f}});
        const auto& p = model->parameters();
        const auto alpha = ei::trainingGate(out.primaryCls, p.at("gate.weight"), p.at("gate.bias"));
        QCOMPARE(alpha[0][1].item<float>(), 0.0f);
        const ei::LossTerms terms = ei::fusionLoss(out.logits, out.auxLogits, alpha, target, {});
        QVERIFY(std::isfinite(terms.total.item<float>()));
        QCOMPARE(terms.gateTarget.item<std::int64_t>(), std::int64_t(0));
        terms.total.backward();
        auto grad = [&](const std::string& name) {
            const torch::Tensor g = p.at(name).grad();
            return g.defined() ? g.abs().sum().item<float>() : 0.0f;
        };
        QVERIFY(grad("head.primary.0.weight") > 0);
        QVERIFY(grad("mor.primary.0.blocks.0.fc1.A0") > 0);
        QCOMPARE(grad("head.primary.1.weight"), 0.0f);
        QCOMPARE(grad("head.aux.1.weight"), 0.0f);
        QCOMPARE(grad("mor.primary.1.blocks.0.fc1.A0"), 0.0f);
        QCOMPARE(grad("adapter.0.1.fc1.weight"), 0.0f);
        // With one modality left the gate has no choice (its weight is exactly 1), so it
        // learns nothing from this batch.
        QCOMPARE(grad("gate.weight"), 0.0f);
    }
};

EI_REGISTER_TEST(MissingModalityTest);
#include "MissingModalityTest.moc"
