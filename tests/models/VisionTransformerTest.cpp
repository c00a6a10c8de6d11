// Backbone (MODEL.md section 1): position-embedding interpolation modes against direct
// torch interpolate calls, token layout with registers / INT, padding, acquire layer.
#include "models/Error.h"
#include "models/vit/VisionTransformer.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <QtTest>

namespace F = torch::nn::functional;

namespace {

std::shared_ptr<ei::VisionTransformer> makeBackbone(const nlohmann::json& j)
{
    const auto c = ei::BackboneConfig::fromJson(j, "test");
    torch::manual_seed(11);
    return std::make_shared<ei::VisionTransformer>(c, ei::VisionTransformer::randomWeights(c), "test");
}

torch::Tensor gridOf(const torch::Tensor& pos, int g0, int g1)
{
    return pos.narrow(1, 1, pos.size(1) - 1).reshape({1, g0, g1, pos.size(2)}).permute({0, 3, 1, 2});
}

}  // namespace

class VisionTransformerTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void interpolationModes()
    {
        torch::manual_seed(4);
        const torch::Tensor pos = torch::randn({1, 1 + 37 * 37, 8});
        const torch::Tensor g = gridOf(pos, 37, 37);
        auto check = [&](const std::string& mode, int h, int w, const torch::Tensor& expectedGrid) {
            const torch::Tensor out = ei::VisionTransformer::interpolatePositions(pos, 37, 37, h, w, mode);
            QCOMPARE(out.sizes().vec(), (std::vector<std::int64_t>{1, 1 + h * w, 8}));
            QVERIFY(torch::equal(out.narrow(1, 0, 1), pos.narrow(1, 0, 1)));  // class entry untouched
            const torch::Tensor got = gridOf(out, h, w);
            QVERIFY2(torch::allclose(got, expectedGrid, 0, 0), mode.c_str());
        };
        // offset: scale_factor (n + 0.1) / G, no recompute (the official DINOv2 code)
        check("offset", 32, 16,
              F::interpolate(g, F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false)
                                    .scale_factor(std::vector<double>{32.1 / 37, 16.1 / 37}).recompute_scale_factor(false)));
        check("size", 32, 16,
              F::interpolate(g, F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false)
                                    .size(std::vector<std::int64_t>{32, 16})));
        check("size_antialias", 32, 16,
              F::interpolate(g, F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false)
                                    .size(std::vector<std::int64_t>{32, 16}).antialias(true)));
        // offset and size really differ (so the test above can tell them apart)
        const torch::Tensor a = ei::VisionTransformer::interpolatePositions(pos, 37, 37, 16, 16, "offset");
        const torch::Tensor b = ei::VisionTransformer::interpolatePositions(pos, 37, 37, 16, 16, "size");
        QVERIFY((a - b).abs().max().item<float>() > 1e-3f);
        // identity at the base grid, in every mode
        for (const char* mode : {"offset", "size", "size_antialias"})
            QVERIFY(torch::equal(ei::VisionTransformer::interpolatePositions(pos, 37, 37, 37, 37, mode), pos));
    }

    void tokenLayoutAndPadding()
    {
        auto vit = makeBackbone(ei::test::smallBackboneJson("dinov2", 4));
        torch::InferenceMode guard;
        const torch::Tensor x = torch::randn({2, 3, 30, 20});  // pads to 42 x 28 -> 3 x 2 patches
        const ei::BackboneOutput o = vit->forward(x);
        QCOMPARE(o.gridH, 3);
        QCOMPARE(o.gridW, 2);
        QCOMPARE(o.tokens.sizes().vec(), (std::vector<std::int64_t>{2, 1 + 4 + 6, 32}));
        // padding is zeros after normalisation: same as padding by hand
        const ei::BackboneOutput p = vit->forward(torch::constant_pad_nd(x, {0, 8, 0, 12}, 0.0));
        QVERIFY(torch::allclose(o.tokens, p.tokens, 1e-5, 1e-5));
        // final norm is applied to every token: zero mean per token (LayerNorm before affine)
        const torch::Tensor n = vit->weights().at("norm.weight");
        QVERIFY(n.defined());

        // extra tokens are appended at the end and change the CLS
        ei::BackboneCall call;
        call.extraTokens = torch::randn({2, 2, 32});
        const ei::BackboneOutput e = vit->forward(x, call);
        QCOMPARE(e.tokens.size(1), std::int64_t(1 + 4 + 6 + 2));
        QVERIFY((e.tokens.select(1, 0) - o.tokens.select(1, 0)).abs().max().item<float>() > 1e-4f);
        // insert_layer 2: the tokens join before block 3, so the result differs from
        // joining before block 1 and from no extra tokens at all
        call.insertLayer = 2;
        const ei::BackboneOutput late = vit->forward(x, call);
        QVERIFY((late.tokens - e.tokens).abs().max().item<float>() > 1e-5f);
        QVERIFY((late.tokens.narrow(1, 0, 11) - o.tokens).abs().max().item<float>() > 1e-5f);
        // acquire layer: depth = final normed CLS; 1 = raw block-1 output
        ei::BackboneCall acq;
        acq.acquireLayer = 3;
        QVERIFY(torch::equal(vit->forward(x, acq).acquiredCls, o.tokens.select(1, 0)));
        acq.acquireLayer = 1;
        const torch::Tensor raw = vit->forward(x, acq).acquiredCls;
        QCOMPARE(raw.sizes().vec(), (std::vector<std::int64_t>{2, 32}));
        QVERIFY((raw - o.tokens.select(1, 0)).abs().max().item<float>() > 1e-3f);
    }

    void refusesUnpaddedWhenAsked()
    {
        auto j = ei::test::smallBackboneJson();
        j["pad_to_patch"] = false;
        auto vit = makeBackbone(j);
        torch::InferenceMode guard;
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, vit->forward(torch::randn({1, 3, 30, 28})));
        QCOMPARE(vit->forward(torch::randn({1, 3, 28, 28})).tokens.size(1), std::int64_t(5));
    }

    void clipLayout()
    {
        auto vit = makeBackbone(ei::test::smallBackboneJson("clip"));
        QVERIFY(!vit->weights().count("patch_embed.bias"));
        QVERIFY(vit->weights().count("norm_pre.weight"));
        QVERIFY(!vit->weights().count("blocks.0.ls1"));
        torch::InferenceMode guard;
        const auto o = vit->forward(torch::randn({1, 3, 64, 64}));  // base grid 4 x 4
        QCOMPARE(o.tokens.size(1), std::int64_t(17));
    }

    void wrongWeightsRefused()
    {
        const auto c = ei::BackboneConfig::fromJson(ei::test::smallBackboneJson(), "test");
        auto w = ei::VisionTransformer::randomWeights(c);
        auto missing = w;
        missing.erase("blocks.1.mlp.fc1.bias");
        try {
            ei::VisionTransformer(c, missing, "b.safetensors");
            QFAIL("accepted a missing tensor");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::Model);
            QVERIFY2(std::string(e.what()).find("blocks.1.mlp.fc1.bias") != std::string::npos, e.what());
        }
        auto shaped = w;
        shaped["norm.weight"] = torch::ones({31});
        QVERIFY_THROWS_EXCEPTION(ei::ModelError, ei::VisionTransformer(c, shaped, "b"));
        auto extra = w;
        extra["blocks.9.foo"] = torch::ones({1});
        QVERIFY_THROWS_EXCEPTION(ei::ModelError, ei::VisionTransformer(c, extra, "b"));
    }

    void weightsChangedInPlaceAreSeen()
    {
        // A backbone trained with train_backbone is updated in place between passes; a
        // validation pass without autograd must see the updated position table (it was
        // cached per grid and went stale), as a backbone built from the new weights does.
        auto vit = makeBackbone(ei::test::smallBackboneJson());
        const torch::Tensor x = torch::randn({1, 3, 70, 70});  // a 5 x 5 grid: interpolated from 4 x 4
        torch::NoGradGuard noGrad;
        const torch::Tensor before = vit->forward(x).tokens;
        vit->weights().at("pos_embed").add_(0.5 * torch::randn(vit->weights().at("pos_embed").sizes()));
        vit->weights().at("blocks.0.mlp.fc1.weight").mul_(1.5);
        const torch::Tensor after = vit->forward(x).tokens;
        const ei::VisionTransformer fresh(vit->config(), vit->weights(), "test");
        QVERIFY(!torch::allclose(before, after));
        QVERIFY(torch::allclose(after, fresh.forward(x).tokens, 1e-5, 1e-5));
    }
};

EI_REGISTER_TEST(VisionTransformerTest);
#include "VisionTransformerTest.moc"
