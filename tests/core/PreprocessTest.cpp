// Model preprocessing: slice choice against numpy's round-half-even, the intensity rule,
// resizing against LibTorch's bilinear interpolation (an implementation independent of
// OpenCV's), channels and mean / std.
#include "core/io/ImageLoader.h"
#include "core/study/Preprocess.h"
#include "models/Error.h"
#include "tests/core/LoaderTestSupport.h"

#include <QtTest>

#include <nlohmann/json.hpp>

using namespace ei::test;

namespace {

ei::Image ramp(int slices, int h, int w, int channels, float scale = 1.0f)
{
    ei::Image im;
    im.slices = slices, im.height = h, im.width = w, im.channels = channels;
    for (int i = 0; i < slices * h * w * channels; ++i)
        im.pixels.push_back(static_cast<float>(i % 256) * scale);
    return im;
}

}  // namespace

class PreprocessTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sliceIndicesFollowNumpy()
    {
        // The official rule, evaluated by numpy: step = (D-1)/S, np.round(step/2 + k*step).
        const QString script =
            "import json, numpy as np\n"
            "out = {}\n"
            "for d in [1, 2, 3, 4, 5, 6, 9, 11, 16, 17, 24, 26, 32, 44, 51]:\n"
            "  for s in [1, 2, 3, 4, 8]:\n"
            "    step = (d - 1) / s\n"
            "    out['%d,%d' % (d, s)] = [int(np.round(step / 2 + k * step)) for k in range(s)]\n"
            "print(json.dumps(out))\n";
        const auto r = runProcess(pythonPath(), {"-c", script});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto expected = nlohmann::json::parse(r.out.toStdString());
        int halves = 0;
        for (const auto& [key, value] : expected.items()) {
            const int d = std::stoi(key.substr(0, key.find(','))), s = std::stoi(key.substr(key.find(',') + 1));
            QCOMPARE(ei::chooseSliceIndices(d, s), value.get<std::vector<int>>());
            const double step = static_cast<double>(d - 1) / s;
            halves += std::abs(step / 2 - std::floor(step / 2) - 0.5) < 1e-12;
        }
        QVERIFY2(halves > 0, "the table exercises ties (round half to even)");
        // A tie rounds to even: D = 5, S = 4 -> centres 0.5, 1.5, 2.5, 3.5.
        QCOMPARE(ei::chooseSliceIndices(5, 4), (std::vector<int>{0, 2, 2, 4}));
        QCOMPARE(ei::chooseSliceIndices(26, 4), (std::vector<int>{3, 9, 16, 22}));
    }

    void photoValuesAreUsedAsStored()
    {
        ei::Image im = ramp(1, 2, 3, 3);
        im.bitsStored = 8;
        ei::ModelInputSpec spec;
        spec.height = 2, spec.width = 3;
        const auto t = ei::preprocessForModel(im, spec);
        QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{1, 3, 2, 3}));
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 3; ++x)
                for (int c = 0; c < 3; ++c) {
                    const float want = (im.at(0, y, x, c) / 255.0f - spec.mean[c]) / spec.std[c];
                    QVERIFY(std::abs(t[0][c][y][x].item<float>() - want) < 1e-5);
                }
    }

    void sixteenBitDataGoesThroughTheWindow()
    {
        ei::Image im = ramp(1, 1, 5, 1);
        im.pixels = {-100, 0, 100, 200, 1000};
        im.bitsStored = 16, im.isSigned = true;
        im.windowCenter = 50, im.windowWidth = 200;  // [-50, 150] -> [0, 255]
        ei::ModelInputSpec spec;
        spec.height = 1, spec.width = 5, spec.mean = {0, 0, 0}, spec.std = {1, 1, 1};
        const auto t = ei::preprocessForModel(im, spec);
        const std::vector<float> want{0.0f, 0.25f, 0.75f, 1.0f, 1.0f};
        for (int x = 0; x < 5; ++x)
            for (int c = 0; c < 3; ++c)
                QVERIFY2(std::abs(t[0][c][0][x].item<float>() - want[x]) < 1e-6, qPrintable(QString::number(x)));
        QVERIFY(!ei::isDisplayReady(im));
    }

    void resizeMatchesTorchBilinear_data()
    {
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("w");
        QTest::newRow("downscale") << 23 << 17;
        QTest::newRow("upscale") << 97 << 131;
        QTest::newRow("same size: untouched") << 48 << 64;
    }
    void resizeMatchesTorchBilinear()
    {
        QFETCH(int, h);
        QFETCH(int, w);
        // A real photograph, RGB.
        const ei::Image retina = ei::loadImage(skimageData("retina.jpg").toStdString());
        ei::Image im = retina;  // crop 48 x 64 from the centre to keep it quick
        im.height = 48, im.width = 64;
        im.pixels.clear();
        for (int y = 0; y < 48; ++y)
            for (int x = 0; x < 64; ++x)
                for (int c = 0; c < 3; ++c)
                    im.pixels.push_back(retina.at(0, 700 + y, 700 + x, c));
        ei::ModelInputSpec spec;
        spec.height = h, spec.width = w;
        const auto got = ei::preprocessForModel(im, spec);
        // Reference: torch bilinear, half-pixel centres, no antialias == cv::INTER_LINEAR.
        auto src = torch::from_blob(im.pixels.data(), {1, 48, 64, 3}, torch::kFloat32).permute({0, 3, 1, 2}).clone();
        auto ref = torch::nn::functional::interpolate(
            src, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kBilinear).align_corners(false));
        ref = ref.clamp(0, 255) / 255.0;
        const auto mean = torch::tensor({spec.mean[0], spec.mean[1], spec.mean[2]}).view({1, 3, 1, 1});
        const auto std = torch::tensor({spec.std[0], spec.std[1], spec.std[2]}).view({1, 3, 1, 1});
        ref = (ref - mean) / std;
        const float diff = (got - ref).abs().max().item<float>();
        // OpenCV's float path and torch differ only in float rounding (upscaling; for
        // downscaling both sample the same 4 neighbours without antialiasing).
        QVERIFY2(diff < 1e-3, qPrintable(QString::number(diff)));
    }

    void volumesGiveSSlicesOfThreeEqualChannels()
    {
        ei::Image vol = ramp(26, 8, 8, 1);
        for (int s = 0; s < 26; ++s)  // slice s holds the value s everywhere
            std::fill(vol.pixels.begin() + s * 64, vol.pixels.begin() + (s + 1) * 64, static_cast<float>(s));
        vol.bitsStored = 8;
        ei::ModelInputSpec spec;
        spec.height = 8, spec.width = 8, spec.volume = true, spec.slices = 4;
        spec.mean = {0, 0, 0}, spec.std = {1, 1, 1};
        const auto t = ei::preprocessForModel(vol, spec);
        QCOMPARE(t.sizes().vec(), (std::vector<int64_t>{4, 3, 8, 8}));
        const std::vector<int> picks{3, 9, 16, 22};
        for (int k = 0; k < 4; ++k)
            QVERIFY(torch::allclose(t[k], torch::full({3, 8, 8}, picks[k] / 255.0f)));
        // A 2-D image given to a volume slot is repeated.
        const auto one = ei::preprocessForModel(ramp(1, 8, 8, 1), spec);
        QCOMPARE(one.size(0), 4);
        QVERIFY(torch::equal(one[0], one[3]));
    }

    void emptyImageIsBadInput()
    {
        ei::Image empty;
        empty.sourcePath = "nothing.png";
        try {
            ei::preprocessForModel(empty, {});
            QFAIL("accepted an empty image");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            QVERIFY(QString(e.what()).contains("nothing.png"));
        }
    }
};

EI_REGISTER_TEST(PreprocessTest);
#include "PreprocessTest.moc"
