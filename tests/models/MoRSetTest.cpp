// MoR (MODEL.md section 2): identity at init, fast path = per-rank formula, router layout.
#include "models/Error.h"
#include "models/vit/MoRSet.h"
#include "tests/TestRegistry.h"

#include <QtTest>

#include <optional>

namespace {

ei::BackboneConfig tinyBackbone()
{
    ei::BackboneConfig b;
    b.embedDim = 16;
    b.depth = 2;
    b.numHeads = 2;
    return b;
}

// `count` sets "s0.", "s1.", ... with random B (every delta live), every tensor requiring
// a gradient, bound.
std::vector<ei::MoRSet> liveSets(const ei::MorConfig& mor, int count, std::map<std::string, torch::Tensor>& params)
{
    for (int m = 0; m < count; ++m)
        ei::MoRSet::initialize(mor, tinyBackbone(), "s" + std::to_string(m) + ".", params);
    for (auto& [name, t] : params) {
        if (name[name.rfind('.') + 1] == 'B')
            t = torch::randn(t.sizes());
        t.requires_grad_(true);
    }
    std::vector<ei::MoRSet> sets;
    for (int m = 0; m < count; ++m)
        sets.push_back(ei::MoRSet::bind(mor, tinyBackbone(), "s" + std::to_string(m) + ".", params));
    return sets;
}

}  // namespace

class MoRSetTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void identityAtInit()
    {
        ei::MorConfig mor;
        mor.targets = {"q", "k", "v", "proj", "fc1", "fc2"};
        std::map<std::string, torch::Tensor> params;
        torch::manual_seed(1);
        ei::MoRSet::initialize(mor, tinyBackbone(), "mor.aux.0.", params);
        const ei::MoRSet set = ei::MoRSet::bind(mor, tinyBackbone(), "mor.aux.0.", params);
        const torch::Tensor h = torch::randn({2, 5, 16});
        const torch::Tensor h4 = torch::randn({2, 5, 64});
        for (int block = 0; block < 2; ++block) {
            for (int t = 0; t < ei::kMoRTargetCount; ++t) {
                const auto* l = set.layer(block, static_cast<ei::MoRTarget>(t));
                QVERIFY(l);
                const torch::Tensor d = set.delta(*l, t == static_cast<int>(ei::MoRTarget::Fc2) ? h4 : h);
                QCOMPARE(d.abs().max().item<float>(), 0.0f);
                // router and A are random (non-zero), B is zero
                QVERIFY(l->routerWeight.abs().sum().item<float>() > 0);
                QVERIFY(l->A[2].abs().sum().item<float>() > 0);
            }
        }
        QCOMPARE(params.at("mor.aux.0.blocks.1.fc1.A2").sizes().vec(), (std::vector<std::int64_t>{8, 16}));
        QCOMPARE(params.at("mor.aux.0.blocks.1.fc1.B2").sizes().vec(), (std::vector<std::int64_t>{64, 8}));
        QCOMPARE(params.at("mor.aux.0.blocks.0.fc2.router.weight").sizes().vec(), (std::vector<std::int64_t>{4, 64}));
        // A: Kaiming-uniform a = sqrt 5 -> |A| <= 1 / sqrt(fan_in)
        QVERIFY(params.at("mor.aux.0.blocks.0.fc2.A1").abs().max().item<float>() <= 1.0f / 8.0f + 1e-6f);
    }

    void fastPathEqualsPerRank_data()
    {
        QTest::addColumn<bool>("bypass");
        QTest::newRow("bypass") << true;
        QTest::newRow("no bypass") << false;
    }
    void fastPathEqualsPerRank()
    {
        QFETCH(bool, bypass);
        ei::MorConfig mor;
        mor.bypass = bypass;
        mor.ranks = {2, 4, 8};
        mor.alphas = {4, 8, 16};
        std::map<std::string, torch::Tensor> params;
        torch::manual_seed(2);
        ei::MoRSet::initialize(mor, tinyBackbone(), "p.", params);
        for (auto& [name, t] : params)
            if (name.back() >= '0' && name.back() <= '9' && name[name.rfind('.') + 1] == 'B')
                t = torch::randn(t.sizes());
        const ei::MoRSet set = ei::MoRSet::bind(mor, tinyBackbone(), "p.", params);
        const auto* l = set.layer(0, ei::MoRTarget::Fc1);
        QCOMPARE(l->routerWeight.size(0), std::int64_t(bypass ? 4 : 3));
        // the fast path's skinny products padded to multiples of 8 (GPU alignment):
        // router 4 or 3 -> 8 rows, ranks 2 + 4 + 8 = 14 -> 16
        QCOMPARE(l->routerWidth, std::int64_t(8));
        QCOMPARE(l->inW.sizes().vec(), (std::vector<std::int64_t>{24, 16}));
        QCOMPARE(l->outBT.sizes().vec(), (std::vector<std::int64_t>{16, 64}));
        const torch::Tensor h = torch::randn({3, 7, 16});
        const torch::Tensor fast = set.delta(*l, h);
        const torch::Tensor slow = set.deltaPerRank(*l, h);
        QVERIFY(fast.abs().max().item<float>() > 1e-3f);
        QVERIFY2(torch::allclose(fast, slow, 1e-5, 1e-5), "fast path differs from the per-rank sum");
        // hand formula for one token
        const torch::Tensor x = h[0][0];
        const torch::Tensor w = torch::softmax(torch::mv(l->routerWeight, x) + l->routerBias, 0);
        torch::Tensor expected = torch::zeros({64});
        for (int k = 0; k < 3; ++k)
            expected += w[k + (bypass ? 1 : 0)] * (mor.alphas[k] / mor.ranks[k]) * torch::mv(l->B[k], torch::mv(l->A[k], x));
        QVERIFY(torch::allclose(fast[0][0], expected, 1e-5, 1e-5));
        QVERIFY(torch::allclose(set.routerWeights(*l, h).sum(-1), torch::ones({3, 7})));
        QVERIFY(set.layer(0, ei::MoRTarget::Q) == nullptr);  // not a target
    }

    void stackedSetsEqualEachSetOnItsRows()
    {
        // Issue 15: three modalities' sets stacked act on a batch of three equal row
        // groups as each set on its own rows, and gradients reach every set's tensors.
        ei::MorConfig mor;
        mor.targets = {"q", "fc1"};
        std::map<std::string, torch::Tensor> params;
        torch::manual_seed(4);
        const std::vector<ei::MoRSet> sets = liveSets(mor, 3, params);
        const ei::MoRSet stacked = ei::MoRSet::stack({&sets[0], &sets[1], &sets[2]});
        QCOMPARE(stacked.groups(), 3);
        const torch::Tensor h = torch::randn({3 * 2, 5, 16});  // 3 groups of 2 rows
        for (auto target : {ei::MoRTarget::Q, ei::MoRTarget::Fc1}) {
            const torch::Tensor together = stacked.delta(*stacked.layer(1, target), h);
            QCOMPARE(together.sizes().vec(), (std::vector<std::int64_t>{6, 5, target == ei::MoRTarget::Q ? 16 : 64}));
            for (int m = 0; m < 3; ++m) {
                const torch::Tensor alone = sets[m].delta(*sets[m].layer(1, target), h.narrow(0, 2 * m, 2));
                QVERIFY(alone.abs().max().item<float>() > 1e-3f);
                QVERIFY2(torch::allclose(together.narrow(0, 2 * m, 2), alone, 1e-5, 1e-5), "stacked delta differs");
            }
        }
        stacked.delta(*stacked.layer(0, ei::MoRTarget::Fc1), h).sum().backward();
        for (int m = 0; m < 3; ++m)
            QVERIFY(params.at("s" + std::to_string(m) + ".blocks.0.fc1.A1").grad().abs().sum().item<float>() > 0);
    }

    void addDeltaAccumulatesIntoViewsOfTheProduct()
    {
        // Issue 15: the backbone adds each delta into its fresh product in place, through
        // views: q / k / v are column slices of the fused qkv product, a modality's rows a
        // slice of the batch. Every element outside the view stays as it was, and the
        // autograd graph through the in-place product reaches the MoR tensors.
        ei::MorConfig mor;
        mor.targets = {"q", "v", "fc1"};
        std::map<std::string, torch::Tensor> params;
        torch::manual_seed(5);
        const std::vector<ei::MoRSet> sets = liveSets(mor, 2, params);
        const torch::Tensor h = torch::randn({4, 5, 16});
        const torch::Tensor qkv = torch::randn({4, 5, 48});
        std::optional<torch::NoGradGuard> inference(std::in_place);  // the in-place product
        // set 1 on the rows 2..3, target v (columns 32..47)
        torch::Tensor out = qkv.clone();
        const auto* v = sets[1].layer(0, ei::MoRTarget::V);
        sets[1].addDelta(*v, h.narrow(0, 2, 2), out.narrow(0, 2, 2).narrow(-1, 32, 16));
        torch::Tensor want = qkv.clone();
        want.narrow(0, 2, 2).narrow(-1, 32, 16).add_(sets[1].delta(*v, h.narrow(0, 2, 2)));
        QVERIFY(sets[1].delta(*v, h.narrow(0, 2, 2)).abs().max().item<float>() > 1e-3f);
        QVERIFY2(torch::allclose(out, want, 1e-5, 1e-5), "addDelta differs from adding delta");
        QVERIFY(torch::equal(out.narrow(0, 0, 2), qkv.narrow(0, 0, 2)));
        QVERIFY(torch::equal(out.narrow(-1, 0, 32), qkv.narrow(-1, 0, 32)));
        // the stacked set of both on the whole batch, into the q columns
        const ei::MoRSet stacked = ei::MoRSet::stack({&sets[0], &sets[1]});
        torch::Tensor together = qkv.clone();
        stacked.addDelta(*stacked.layer(1, ei::MoRTarget::Q), h, together.narrow(-1, 0, 16));
        for (int m = 0; m < 2; ++m) {
            const torch::Tensor alone =
                qkv.narrow(0, 2 * m, 2).narrow(-1, 0, 16) + sets[m].delta(*sets[m].layer(1, ei::MoRTarget::Q), h.narrow(0, 2 * m, 2));
            QVERIFY2(torch::allclose(together.narrow(0, 2 * m, 2).narrow(-1, 0, 16), alone, 1e-5, 1e-5),
                     "stacked addDelta differs");
        }
        QVERIFY(torch::equal(together.narrow(-1, 16, 32), qkv.narrow(-1, 16, 32)));
        // with autograd recording: the gradients reach every tensor of both sets
        inference.reset();
        const ei::MoRSet recorded = ei::MoRSet::stack({&sets[0], &sets[1]});
        torch::Tensor product = torch::matmul(h, torch::ones({16, 64}));
        recorded.addDelta(*recorded.layer(0, ei::MoRTarget::Fc1), h, product);
        product.sum().backward();
        for (int m = 0; m < 2; ++m) {
            const std::string p = "s" + std::to_string(m) + ".blocks.0.fc1.";
            QVERIFY(params.at(p + "A2").grad().abs().sum().item<float>() > 0);
            QVERIFY(params.at(p + "B0").grad().abs().sum().item<float>() > 0);
            QVERIFY(params.at(p + "router.weight").grad().abs().sum().item<float>() > 0);
        }
    }
};

EI_REGISTER_TEST(MoRSetTest);
#include "MoRSetTest.moc"
