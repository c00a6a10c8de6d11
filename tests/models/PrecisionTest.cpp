// Precision (models/Precision.h) and batched passes: names and per-device resolution,
// bf16 on the CPU against fp32 within the tolerance documented in docs/model.md, the
// outputs staying float32, and one backbone call per kind of pass for modalities of one
// input size; bf16 on the CPU runs on LibTorch's threads.
#include "models/Device.h"
#include "models/Error.h"
#include "models/Precision.h"
#include "models/ei/EiModel.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <QtTest>

using ei::test::smallConfigJson;
using ei::test::smallInputs;
using ei::test::smallModel;

namespace {

float maxAbs(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).abs().max().item<float>();
}

// The documented bf16 tolerances (docs/model.md, "Precision"): probabilities and gate
// weights within 0.02, similarity maps (cosines in [-1, 1]) within 0.05.
constexpr float kBf16Probability = 0.02f;
constexpr float kBf16Map = 0.05f;

}  // namespace

class PrecisionTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void namesAndResolution()
    {
        for (const char* n : {"auto", "fp32", "tf32", "bf16", "fp16"})
            QCOMPARE(ei::precisionName(ei::parsePrecision(n)), std::string(n));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::parsePrecision("float8"));
        const torch::Device cpu(torch::kCPU);
        const ei::Precision cpuAuto = ei::cpuMultipliesBf16() ? ei::Precision::Bf16 : ei::Precision::Fp32;
        QCOMPARE(ei::resolvePrecision(ei::Precision::Auto, cpu), cpuAuto);
        QCOMPARE(ei::resolvePrecision(ei::Precision::Bf16, cpu), ei::Precision::Bf16);
        try {
            ei::resolvePrecision(ei::Precision::Fp16, cpu);
            QFAIL("fp16 on the CPU was accepted");
        } catch (const ei::UsageError& e) {
            QVERIFY(std::string(e.what()).find("fp16") != std::string::npos);
            QVERIFY(std::string(e.what()).find("cpu") != std::string::npos);
        }
        auto model = smallModel(smallConfigJson("ei"));
        QCOMPARE(model->precision(), cpuAuto);
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, model->setPrecision(ei::Precision::Fp16));
        QCOMPARE(model->precision(), cpuAuto);  // unchanged by the refusal
    }

    void cpuAutoIsBf16OnlyWithAmx()
    {
        // /proc/cpuinfo excerpts: a Sapphire Rapids guest (AMX), a Cooper Lake-like CPU
        // with AVX-512 BF16 but no tiles, an AVX2 laptop, and a text without flags.
        const std::string amx = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
                                "flags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n\n"
                                "processor\t: 1\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 amx_bf16\n";
        const std::string avx512bf16 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n";
        const std::string avx2 = "processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma\n";
        QVERIFY(ei::cpuFlagsMultiplyBf16(amx));
        QVERIFY(!ei::cpuFlagsMultiplyBf16(avx512bf16));
        QVERIFY(!ei::cpuFlagsMultiplyBf16(avx2));
        QVERIFY(!ei::cpuFlagsMultiplyBf16("processor\t: 0\nmodel name\t: amx_bf16 lookalike\n"));
        QVERIFY(!ei::cpuFlagsMultiplyBf16(""));
    }

    void bf16OnTheCpuWithinTolerance_data()
    {
        QTest::addColumn<QString>("fusion");
        QTest::addColumn<bool>("volume");
        QTest::newRow("ei images") << "ei" << false;
        QTest::newRow("ei volume") << "ei" << true;
        QTest::newRow("late") << "late" << false;
        QTest::newRow("unimodal") << "unimodal" << false;
    }

    void bf16OnTheCpuWithinTolerance()
    {
        QFETCH(QString, fusion);
        QFETCH(bool, volume);
        auto model = smallModel(smallConfigJson(fusion.toStdString(), volume));
        torch::InferenceMode guard;
        const auto xs = smallInputs(model->config());
        model->setPrecision(ei::Precision::Fp32);  // auto is bf16 on a CPU with AMX
        const ei::EiOutputs ref = model->forward(xs, true);
        model->setPrecision(ei::Precision::Bf16);
        QCOMPARE(model->precision(), ei::Precision::Bf16);
        const ei::EiOutputs low = model->forward(xs, true);
        QCOMPARE(low.fusedProbs.scalar_type(), torch::kFloat);
        QVERIFY(low.fusedProbs.isfinite().all().item<bool>());
        QVERIFY(maxAbs(low.fusedProbs, ref.fusedProbs) <= kBf16Probability);
        QVERIFY(maxAbs(low.gate, ref.gate) <= kBf16Probability);
        for (std::size_t m = 0; m < ref.probs.size(); ++m)
            QVERIFY(maxAbs(low.probs[m], ref.probs[m]) <= kBf16Probability);
        float worstMap = 0;
        for (std::size_t m = 0; m < ref.maps.size(); ++m) {
            QCOMPARE(low.maps[m].size(), ref.maps[m].size());
            for (std::size_t k = 0; k < ref.maps[m].size(); ++k) {
                QCOMPARE(low.maps[m][k].values.scalar_type(), torch::kFloat);
                worstMap = std::max(worstMap, maxAbs(low.maps[m][k].values, ref.maps[m][k].values));
            }
        }
        QVERIFY2(worstMap <= kBf16Map, qPrintable(QString("max |map diff| %1").arg(worstMap)));
        // and it is really another arithmetic, not fp32 under another name
        QVERIFY(maxAbs(low.fused, ref.fused) > 0.0f);
        model->setPrecision(ei::Precision::Fp32);
        QVERIFY(torch::equal(model->forward(xs, true).fused, ref.fused));
    }

    void bf16OnTheCpuGivesTheThreadsToLibTorch()
    {
        // The engine's split with OpenBLAS's pool (models/Device.h): 1 intra-op thread,
        // the budget in OpenBLAS. bf16 products run in oneDNN on the intra-op threads.
        const ei::CpuThreads before = ei::currentCpuThreads();
        ei::applyCpuThreads({1, 2});
        const ei::CpuThreads split = ei::currentCpuThreads();
        QVERIFY2(split.blas == 2, "OpenBLAS's pool (libopenblas0-pthread) was not found");
        auto model = smallModel(smallConfigJson("ei"));
        std::vector<std::pair<int, int>> seen;
        ei::JobControl control;
        control.onProgress = [&](double, const std::string&) {
            const ei::CpuThreads now = ei::currentCpuThreads();
            seen.emplace_back(now.intraOp, now.blas);
        };
        torch::InferenceMode guard;
        model->setPrecision(ei::Precision::Bf16);
        model->forward(smallInputs(model->config()), true, &control);
        QVERIFY(!seen.empty());
        for (const auto& [intraOp, blas] : seen) {
            QCOMPARE(intraOp, 2);
            QCOMPARE(blas, 1);
        }
        QCOMPARE(ei::currentCpuThreads().intraOp, 1);  // restored
        QCOMPARE(ei::currentCpuThreads().blas, 2);
        // fp32 keeps the split: its products are OpenBLAS's
        seen.clear();
        model->setPrecision(ei::Precision::Fp32);
        model->forward(smallInputs(model->config()), true, &control);
        for (const auto& [intraOp, blas] : seen) {
            QCOMPARE(intraOp, 1);
            QCOMPARE(blas, 2);
        }
        ei::applyCpuThreads(before);
    }

    void modalitiesOfOneSizeShareEachBackboneCall()
    {
        nlohmann::json cfg = smallConfigJson("ei");
        cfg["modalities"][1]["size"] = cfg["modalities"][0]["size"];
        auto model = smallModel(cfg);
        std::vector<std::string> stages;
        ei::JobControl control;
        control.onProgress = [&](double, const std::string& stage) { stages.push_back(stage); };
        torch::InferenceMode guard;
        model->forward(smallInputs(model->config()), true, &control);
        // the passes without INT (maps) ride in the auxiliary call: two calls, not three
        const std::vector<std::string> want{"CFP, OCT: auxiliary pass and primary pass without INT",
                                            "CFP, OCT: primary pass", "done"};
        QCOMPARE(stages, want);
        stages.clear();
        model->forward(smallInputs(model->config()), false, &control);
        const std::vector<std::string> noMaps{"CFP, OCT: auxiliary pass", "CFP, OCT: primary pass", "done"};
        QCOMPARE(stages, noMaps);
        // different sizes: one call per modality and kind of pass
        stages.clear();
        auto other = smallModel(smallConfigJson("ei"));
        other->forward(smallInputs(other->config()), false, &control);
        QCOMPARE(stages.size(), std::size_t(5));  // 2 auxiliary, 2 primary, done
    }
};

EI_REGISTER_TEST(PrecisionTest);
#include "PrecisionTest.moc"
