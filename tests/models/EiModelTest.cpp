// EI forward (MODEL.md sections 3-4, 9): INT reaches the primary CLS in `ei` and not in
// `late`, gate sums to 1, maps' shapes and ranges, delta = cls - cls_noint, volumes and
// the unimodal rule, and the device choice.
#include "models/Device.h"
#include "models/ei/EiModel.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <QtTest>

using ei::test::findMap;
using ei::test::smallConfigJson;
using ei::test::smallInputs;
using ei::test::smallModel;

class EiModelTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void eiUsesTheOtherModality()
    {
        auto model = smallModel(smallConfigJson("ei"));
        torch::InferenceMode guard;
        auto xs = smallInputs(model->config());
        const ei::EiOutputs a = model->forward(xs);
        xs[1] = xs[1] + 0.5 * torch::randn(xs[1].sizes());
        const ei::EiOutputs b = model->forward(xs);
        // CFP's primary logits depend on OCT only through its INT token
        QVERIFY((a.logits[0] - b.logits[0]).abs().max().item<float>() > 1e-6f);
        QVERIFY((a.primaryCls[0] - b.primaryCls[0]).abs().max().item<float>() > 1e-6f);
        // and CFP's auxiliary pass does not see OCT at all
        QVERIFY(torch::equal(a.auxLogits[0], b.auxLogits[0]));
        QCOMPARE(a.auxLogits.size(), std::size_t(2));
    }

    void lateIgnoresTheOtherModality()
    {
        auto model = smallModel(smallConfigJson("late"));
        QVERIFY(!model->parameters().count("mor.aux.0.blocks.0.fc1.A0"));
        QVERIFY(model->parameters().count("mor.primary.1.blocks.2.fc2.B2"));
        torch::InferenceMode guard;
        auto xs = smallInputs(model->config());
        const ei::EiOutputs a = model->forward(xs, true);
        xs[1] = xs[1] + 0.5 * torch::randn(xs[1].sizes());
        const ei::EiOutputs b = model->forward(xs, true);
        QVERIFY(torch::equal(a.logits[0], b.logits[0]));
        QVERIFY(!torch::equal(a.logits[1], b.logits[1]));
        QVERIFY(a.auxLogits.empty());
        QCOMPARE(a.maps[0].size(), std::size_t(1));
        QCOMPARE(a.maps[0][0].kind, std::string("cls"));
    }

    void gateAndFusion()
    {
        auto model = smallModel(smallConfigJson("ei"));
        torch::InferenceMode guard;
        const ei::EiOutputs o = model->forward(smallInputs(model->config()));
        QCOMPARE(o.gate.sizes().vec(), (std::vector<std::int64_t>{1, 2}));
        QVERIFY(std::abs(o.gate.sum().item<float>() - 1.0f) < 1e-6f);
        const torch::Tensor fused = o.gate[0][0] * o.logits[0] + o.gate[0][1] * o.logits[1];
        QVERIFY(torch::allclose(o.fused, fused, 1e-6, 1e-6));
        QVERIFY(torch::allclose(o.fusedProbs, torch::softmax(o.fused, -1)));
        QVERIFY(std::abs(o.probs[1].sum().item<float>() - 1.0f) < 1e-5f);
    }

    void mapsShapesRangesDelta()
    {
        auto model = smallModel(smallConfigJson("ei"));
        torch::InferenceMode guard;
        const ei::EiOutputs o = model->forward(smallInputs(model->config()), true);
        // CFP 56 x 42 -> 4 x 3 patches; OCT 42 x 56 -> 3 x 4
        QCOMPARE(o.grids[0], (std::array<int, 2>{4, 3}));
        QCOMPARE(o.grids[1], (std::array<int, 2>{3, 4}));
        for (int m = 0; m < 2; ++m) {
            QCOMPARE(o.maps[m].size(), std::size_t(4));  // cls, cls_noint, int_<other>, delta
            const auto* cls = findMap(o.maps[m], "cls");
            const auto* noint = findMap(o.maps[m], "cls_noint");
            const auto* delta = findMap(o.maps[m], "delta");
            const auto* intMap = findMap(o.maps[m], m == 0 ? "int_OCT" : "int_CFP");
            QVERIFY(cls && noint && delta && intMap);
            QCOMPARE(cls->values.sizes().vec(), (std::vector<std::int64_t>{1, 1, o.grids[m][0], o.grids[m][1]}));
            for (const auto* map : {cls, noint, intMap})
                QVERIFY(map->values.abs().max().item<float>() <= 1.0f + 1e-6f);
            QVERIFY(torch::allclose(delta->values, cls->values - noint->values));
            QVERIFY(delta->values.abs().max().item<float>() > 1e-6f);  // INT changed the map
        }
    }

    void volumesPoolSlices()
    {
        auto model = smallModel(smallConfigJson("ei", true));
        torch::InferenceMode guard;
        auto xs = smallInputs(model->config());
        const ei::EiOutputs o = model->forward(xs, true);
        const auto* cls = findMap(o.maps[1], "cls");
        QCOMPARE(cls->values.sizes().vec(), (std::vector<std::int64_t>{1, 3, 3, 3}));
        // slice order matters only through pooling: max / mean are symmetric, so reversing
        // the slices leaves the logits unchanged and reverses the maps
        auto flipped = xs;
        flipped[1] = xs[1].flip({1});
        const ei::EiOutputs f = model->forward(flipped, true);
        QVERIFY(torch::allclose(o.logits[1], f.logits[1], 1e-5, 1e-5));
        QVERIFY(torch::allclose(o.auxLogits[1], f.auxLogits[1], 1e-5, 1e-5));
        QVERIFY(torch::allclose(cls->values.flip({1}), findMap(f.maps[1], "cls")->values, 1e-5, 1e-5));
        // wrong slice count
        auto bad = xs;
        bad[1] = xs[1].narrow(1, 0, 2);
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, model->forward(bad));
    }

    void unimodal()
    {
        auto model = smallModel(smallConfigJson("unimodal"));
        QVERIFY(model->parameters().count("head.uni.0.weight"));
        QVERIFY(!model->parameters().count("gate.weight"));
        torch::InferenceMode guard;
        const ei::EiOutputs o = model->forward(smallInputs(model->config()), true);
        QCOMPARE(o.gate.item<float>(), 1.0f);
        QVERIFY(torch::equal(o.fused, o.logits[0]));
        QCOMPARE(o.maps[0].size(), std::size_t(1));
    }

    void freshModelIsBackbonePlusHeads()
    {
        // Without --random-adapters MoR is the identity: the primary CLS equals the
        // plain backbone's CLS when INT is absent (late fusion).
        auto model = smallModel(smallConfigJson("late"), 3, false);
        model->setPrecision(ei::Precision::Fp32);  // as the plain backbone call below
        torch::InferenceMode guard;
        const auto xs = smallInputs(model->config());
        const ei::EiOutputs o = model->forward(xs);
        const torch::Tensor plain = model->backbone().forward(xs[0]).tokens.select(1, 0);
        QVERIFY(torch::allclose(o.primaryCls[0], plain, 1e-6, 1e-6));
    }

    void deviceChoice()
    {
        if (!torch::cuda::is_available()) {
            QCOMPARE(ei::deviceName(ei::resolveDevice("auto")), std::string("cpu"));
            QVERIFY_THROWS_EXCEPTION(ei::ModelError, ei::resolveDevice("cuda"));
            QVERIFY_THROWS_EXCEPTION(ei::ModelError, ei::resolveDevice("cuda:1"));
        } else {
            QCOMPARE(ei::deviceName(ei::resolveDevice("auto")), std::string("cuda:0"));
        }
        QCOMPARE(ei::deviceName(ei::resolveDevice("cpu")), std::string("cpu"));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::resolveDevice("gpu"));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::resolveDevice("cuda:x"));
    }

    void cpuThreadPolicy()
    {
        // With OpenBLAS's own pool loaded (Debian's default libblas.so.3), the budget goes
        // to OpenBLAS and LibTorch keeps one intra-op thread; otherwise to LibTorch.
        QFile maps(QStringLiteral("/proc/self/maps"));
        QVERIFY(maps.open(QIODevice::ReadOnly));
        const bool openblas = maps.readAll().contains("libopenblas");
        const ei::CpuThreads t = ei::setCpuThreads(3);
        QCOMPARE(t.intraOp, openblas ? 1 : 3);
        QCOMPARE(t.blas, openblas ? 3 : 0);
        QCOMPARE(torch::get_num_threads(), t.intraOp);
        const ei::CpuThreads now = ei::currentCpuThreads();
        QCOMPARE(now.intraOp, t.intraOp);
        QCOMPARE(now.blas, t.blas);

        qputenv("EIVIEW_INTRAOP_THREADS", "2");
        const ei::CpuThreads overridden = ei::setCpuThreads(3);
        qunsetenv("EIVIEW_INTRAOP_THREADS");
        QCOMPARE(overridden.intraOp, 2);
        QCOMPARE(torch::get_num_threads(), 2);

        qputenv("EIVIEW_THREADS", "1");
        const ei::CpuThreads fromEnv = ei::setCpuThreads(0);
        qunsetenv("EIVIEW_THREADS");
        QCOMPARE(fromEnv.intraOp + fromEnv.blas, openblas ? 2 : 1);
        ei::setCpuThreads(0);
    }
};

EI_REGISTER_TEST(EiModelTest);
#include "EiModelTest.moc"
