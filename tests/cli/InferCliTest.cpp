// eiview-cli info / init / embed / infer end to end on tiny models: outputs, JSON keys of
// MODEL.md section 8, map files, and the exit codes 2 (usage), 3 (bad input), 4 (model).
#include "models/io/EiModelFile.h"
#include "models/io/NpyFile.h"
#include "models/Precision.h"
#include "models/vit/VisionTransformer.h"
#include "tests/TestRegistry.h"
#include "tests/cli/CliRun.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

using ei::test::CliRun;

CliRun runCli(const QStringList& args)
{
    return ei::test::runCliProcess(args);
}

void writeText(const QString& path, const QByteArray& text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

const QByteArray kConfig = R"({
  "backbone": {"family": "dinov2", "patch_size": 14, "embed_dim": 32, "depth": 2, "num_heads": 2,
               "num_register_tokens": 4, "pos_grid": [4, 4]},
  "modalities": [{"name": "CFP", "kind": "image", "size": [56, 42]},
                 {"name": "MRI", "kind": "volume", "size": [42, 42], "slices": 3}],
  "classes": ["a", "b", "c"],
  "adapter": {"hidden": 16}
})";

void writeTensor(const QString& path, std::vector<std::int64_t> shape)
{
    std::int64_t n = 1;
    for (auto s : shape)
        n *= s;
    std::vector<float> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<float>((i * 7919) % 101) / 50.0f - 1.0f;
    ei::writeNpy(path.toStdString(), shape, v.data());
}

// `init --random-adapters` of kConfig into `model`; false (with the error printed) on failure.
bool initModel(const QTemporaryDir& dir, const QString& model, const QString& seed)
{
    QFile f(dir.filePath("config.json"));
    if (!f.open(QIODevice::WriteOnly) || f.write(kConfig) != kConfig.size())
        return false;
    f.close();
    const CliRun r = runCli({"init", "--config", dir.filePath("config.json"), "--seed", seed, "--random-adapters", "--out", model});
    if (r.code != 0)
        qWarning("%s", r.err.constData());
    return r.code == 0;
}

}  // namespace

class InferCliTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initInfoInfer()
    {
        QTemporaryDir dir;
        const QString model = dir.filePath("m.eimodel");
        QVERIFY(initModel(dir, model, "3"));
        CliRun r;

        r = runCli({"info", model});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject info = QJsonDocument::fromJson(r.out).object();
        QVERIFY(info["parameters"].toObject()["trainable"].toDouble() > 0);
        QVERIFY(info["parameters"].toObject()["total"].toDouble() > info["parameters"].toObject()["trainable"].toDouble());
        QCOMPARE(info["backbone"].toObject()["embedded"].toBool(), true);
        QCOMPARE(info["config"].toObject()["int"].toObject()["acquire_layer"].toInt(), 2);

        writeTensor(dir.filePath("cfp.npy"), {1, 3, 56, 42});
        writeTensor(dir.filePath("mri.npy"), {3, 3, 42, 42});
        const QString maps = dir.filePath("maps");
        const QString json = dir.filePath("out.json");
        r = runCli({"infer", "--model", model, "--device", "cpu", "--input-tensor", "CFP=" + dir.filePath("cfp.npy"),
                    "--input-tensor", "MRI=" + dir.filePath("mri.npy"), "--maps", maps, "--json", json});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile f(json);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject o = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(o["device"].toString(), QString("cpu"));
        // auto on the CPU: bf16 where it has AMX, else fp32
        QCOMPARE(o["precision"].toString(), QString(ei::cpuMultipliesBf16() ? "bf16" : "fp32"));
        QCOMPARE(o["fusion"].toString(), QString("ei"));
        QCOMPARE(o["classes"].toArray().size(), 3);
        const QJsonArray mods = o["modalities"].toArray();
        QCOMPARE(mods.size(), 2);
        QCOMPARE(mods[1].toObject()["name"].toString(), QString("MRI"));
        for (const char* key : {"logits", "probs", "aux_logits"})
            QCOMPARE(mods[0].toObject()[key].toArray().size(), 3);
        const QJsonArray gate = o["gate"].toArray();
        QCOMPARE(gate.size(), 2);
        QVERIFY(std::abs(gate[0].toDouble() + gate[1].toDouble() - 1.0) < 1e-5);
        QCOMPARE(o["fused"].toObject()["probs"].toArray().size(), 3);
        QVERIFY(o["timings_ms"].toObject().contains("forward"));

        for (const char* stem : {"CFP_cls", "CFP_cls_noint", "CFP_int_MRI", "CFP_delta", "MRI_cls", "MRI_cls_noint",
                                 "MRI_int_CFP", "MRI_delta"})
            QVERIFY2(QFile::exists(maps + "/" + stem + ".npy"), stem);
        QVERIFY(QFile::exists(maps + "/CFP_cls.png"));
        QVERIFY(QFile::exists(maps + "/MRI_delta_s2.png"));
        const auto cfp = ei::readNpy((maps + "/CFP_cls.npy").toStdString());
        QCOMPARE(cfp.shape, (std::vector<std::int64_t>{4, 3}));
        const auto mri = ei::readNpy((maps + "/MRI_int_CFP.npy").toStdString());
        QCOMPARE(mri.shape, (std::vector<std::int64_t>{3, 3, 3}));
        for (float v : mri.values)
            QVERIFY(v >= -1.0f - 1e-6f && v <= 1.0f + 1e-6f);

        // exit 3: a volume with the wrong slice count, named; no JSON written
        writeTensor(dir.filePath("mri2.npy"), {2, 3, 42, 42});
        QFile::remove(json);
        r = runCli({"infer", "--model", model, "--input-tensor", "CFP=" + dir.filePath("cfp.npy"), "--input-tensor",
                    "MRI=" + dir.filePath("mri2.npy"), "--json", json});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("MRI"), r.err.constData());
        QVERIFY(!QFile::exists(json));
        // A modality left out: the study runs without it and the JSON says so; the fused
        // prediction is then CFP's own, the gate all CFP's, and no MRI maps are written.
        const QString partialMaps = dir.filePath("partial-maps");
        r = runCli({"infer", "--model", model, "--device", "cpu", "--input-tensor", "CFP=" + dir.filePath("cfp.npy"),
                    "--maps", partialMaps});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject partial = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(partial["missing"].toArray(), QJsonArray({"MRI"}));
        QCOMPARE(partial["modalities"].toArray().size(), 1);
        QCOMPARE(partial["modalities"].toArray()[0].toObject()["name"].toString(), QString("CFP"));
        QCOMPARE(partial["gate"].toArray(), QJsonArray({1.0, 0.0}));
        QCOMPARE(partial["fused"].toObject()["probs"].toArray(), partial["modalities"].toArray()[0].toObject()["probs"].toArray());
        QVERIFY(QFile::exists(partialMaps + "/CFP_cls.npy"));
        QVERIFY(!QFile::exists(partialMaps + "/CFP_int_MRI.npy") && !QFile::exists(partialMaps + "/MRI_cls.npy"));
        QCOMPARE(o["missing"].toArray().size(), 0);  // the full study misses nothing
        // exit 2: unknown modality, no input at all, unknown option
        QCOMPARE(runCli({"infer", "--model", model, "--input-tensor", "XYZ=" + dir.filePath("cfp.npy")}).code, 2);
        r = runCli({"infer", "--model", model});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("at least one"), r.err.constData());
        QCOMPARE(runCli({"infer", "--model", model, "--frobnicate"}).code, 2);
        QCOMPARE(runCli({"info"}).code, 2);
        // precision: bf16 runs on the CPU and says so, close to fp32; fp16 there and
        // unknown names are usage errors that name the precision
        const QString bf16Json = dir.filePath("bf16.json");
        r = runCli({"infer", "--model", model, "--device", "cpu", "--precision", "bf16", "--input-tensor",
                    "CFP=" + dir.filePath("cfp.npy"), "--input-tensor", "MRI=" + dir.filePath("mri.npy"), "--json", bf16Json});
        QVERIFY2(r.code == 0, r.err.constData());
        QFile bf(bf16Json);
        QVERIFY(bf.open(QIODevice::ReadOnly));
        const QJsonObject ob = QJsonDocument::fromJson(bf.readAll()).object();
        QCOMPARE(ob["precision"].toString(), QString("bf16"));
        const QJsonArray p32 = o["fused"].toObject()["probs"].toArray(), p16 = ob["fused"].toObject()["probs"].toArray();
        for (int c = 0; c < 3; ++c)
            QVERIFY(std::abs(p32[c].toDouble() - p16[c].toDouble()) <= 0.02);
        r = runCli({"infer", "--model", model, "--device", "cpu", "--precision", "fp16", "--input-tensor",
                    "CFP=" + dir.filePath("cfp.npy"), "--input-tensor", "MRI=" + dir.filePath("mri.npy")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("fp16"), r.err.constData());
        r = runCli({"infer", "--model", model, "--precision", "half", "--input-tensor", "CFP=" + dir.filePath("cfp.npy"),
                    "--input-tensor", "MRI=" + dir.filePath("mri.npy")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("half"), r.err.constData());
        // exit 4: not a model
        writeText(dir.filePath("junk.eimodel"), "not a safetensors file at all");
        QCOMPARE(runCli({"info", dir.filePath("junk.eimodel")}).code, 4);
        QCOMPARE(runCli({"infer", "--model", dir.filePath("junk.eimodel"), "--input-tensor", "CFP=x.npy"}).code, 4);
        QCOMPARE(runCli({"infer", "--model", dir.filePath("missing.eimodel"), "--input-tensor", "CFP=x.npy"}).code, 4);
    }

    void integratedGradientsMatchAnIndependentPyTorchComputation()
    {
        // A small random EI model (image + volume), the CLI's attributions against the
        // float64 PyTorch reference's autograd (tests/models/ig_reference.py) on the same
        // tensors, the same path rule and the same score.
        QTemporaryDir dir;
        const QString model = dir.filePath("m.eimodel");
        QVERIFY(initModel(dir, model, "5"));
        CliRun r;
        writeTensor(dir.filePath("cfp.npy"), {1, 3, 56, 42});
        writeTensor(dir.filePath("mri.npy"), {3, 3, 42, 42});
        const QStringList inputs{"--input-tensor", "CFP=" + dir.filePath("cfp.npy"), "--input-tensor", "MRI=" + dir.filePath("mri.npy")};
        const QString maps = dir.filePath("ig");
        r = runCli(QStringList{"infer", "--model", model, "--device", "cpu", "--precision", "fp32", "--attribution", "ig",
                               "--target", "b", "--steps", "6", "--maps", maps} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        const auto& a = j["attribution"];
        QCOMPARE(a["target"], "b");
        QCOMPARE(a["target_index"], 1);
        QCOMPARE(a["baseline"], "black");
        QCOMPARE(a["steps"], 6);
        QVERIFY(std::abs(a["completeness_gap"].get<double>() -
                         (a["attribution_sum"].get<double>() - (a["score_input"].get<double>() - a["score_baseline"].get<double>()))) < 1e-9);
        QVERIFY(std::abs(a["score_input"].get<double>() - j["fused"]["probs"][1].get<double>()) < 1e-6);

        QProcess py;
        py.start(ei::test::pythonPath(), {QString(EIVIEW_SOURCE_DIR) + "/tests/models/ig_reference.py", model, dir.filePath("ref"),
                                          "--target", "1", "--steps", "6", "CFP=" + dir.filePath("cfp.npy"),
                                          "MRI=" + dir.filePath("mri.npy")});
        QVERIFY(py.waitForFinished(300000));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const auto ref = nlohmann::json::parse(py.readAllStandardOutput().toStdString());
        QVERIFY(std::abs(ref["score_input"].get<double>() - a["score_input"].get<double>()) < 1e-5);
        QVERIFY(std::abs(ref["score_baseline"].get<double>() - a["score_baseline"].get<double>()) < 1e-5);
        QVERIFY(std::abs(ref["attribution_sum"].get<double>() - a["attribution_sum"].get<double>()) < 1e-5);
        for (const char* name : {"CFP", "MRI"}) {
            const auto got = ei::readNpy((maps + "/" + name + "_ig.npy").toStdString());
            const auto want = ei::readNpy((dir.filePath("ref/") + name + "_ig.npy").toStdString());
            QCOMPARE(got.shape, want.shape);
            float scale = 0, worst = 0;
            for (std::size_t i = 0; i < want.values.size(); ++i) {
                scale = std::max(scale, std::abs(want.values[i]));
                worst = std::max(worst, std::abs(got.values[i] - want.values[i]));
            }
            QVERIFY2(scale > 0 && worst <= 1e-3f * scale, qPrintable(QString("%1: %2 of %3").arg(name).arg(worst).arg(scale)));
        }
        QCOMPARE(ei::readNpy((maps + "/MRI_ig.npy").toStdString()).shape, (std::vector<std::int64_t>{3, 42, 42}));
        QCOMPARE(ei::readNpy((maps + "/CFP_ig.npy").toStdString()).shape, (std::vector<std::int64_t>{56, 42}));

        // More steps close the completeness gap; a blurred baseline and a missing modality work too.
        r = runCli(QStringList{"infer", "--model", model, "--precision", "fp32", "--attribution", "ig", "--target", "1",
                               "--steps", "48", "--maps", maps} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());
        const double fine = std::abs(nlohmann::json::parse(r.out.toStdString())["attribution"]["completeness_gap"].get<double>());
        const double coarse = std::abs(a["completeness_gap"].get<double>());
        QVERIFY2(fine < coarse || fine < 1e-4, qPrintable(QString("gap %1 with 48 steps, %2 with 6").arg(fine).arg(coarse)));
        r = runCli({"infer", "--model", model, "--attribution", "ig", "--target", "a", "--baseline", "blur", "--steps", "4",
                    "--maps", dir.filePath("blur"), "--input-tensor", "CFP=" + dir.filePath("cfp.npy")});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(QFile::exists(dir.filePath("blur/CFP_ig.npy")) && !QFile::exists(dir.filePath("blur/MRI_ig.npy")));

        // Usage errors: no --target, an unknown class, no --maps, an unknown baseline, a stray --steps.
        for (const QStringList& bad : {QStringList{"--attribution", "ig", "--maps", maps},
                                       QStringList{"--attribution", "ig", "--target", "zebra", "--maps", maps},
                                       QStringList{"--attribution", "ig", "--target", "a"},
                                       QStringList{"--attribution", "ig", "--target", "a", "--baseline", "white", "--maps", maps},
                                       QStringList{"--steps", "4"}}) {
            r = runCli(QStringList{"infer", "--model", model} + bad + inputs);
            QVERIFY2(r.code == 2, qPrintable(bad.join(' ')));
        }
    }

    void initWithBackboneAndEmbed()
    {
        QTemporaryDir dir;
        writeText(dir.filePath("config.json"), kConfig);
        // a backbone file: the embedded one of a first model, written by init + re-read
        const QString first = dir.filePath("first.eimodel");
        QCOMPARE(runCli({"init", "--config", dir.filePath("config.json"), "--out", first}).code, 0);
        // exit 3: a bad config names its key
        writeText(dir.filePath("bad.json"), R"({"modalities": [{"name": "A"}], "classes": ["x"], "fusion": "unimodal",
                                                 "mor": {"ranks": [2], "alphas": [1, 2]}})");
        auto r = runCli({"init", "--config", dir.filePath("bad.json"), "--out", dir.filePath("bad.eimodel")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("mor.alphas"), r.err.constData());
        QVERIFY(!QFile::exists(dir.filePath("bad.eimodel")));
        // exit 4: --backbone that is not a backbone file
        r = runCli({"init", "--config", dir.filePath("config.json"), "--backbone", first, "--out", dir.filePath("x.eimodel")});
        QCOMPARE(r.code, 4);

        // a real backbone file: init references it; embed writes [1 + R + N, d]
        const auto bc = ei::BackboneConfig::fromJson(nlohmann::json::parse(R"({"embed_dim": 32, "depth": 2,
            "num_heads": 2, "num_register_tokens": 4, "pos_grid": [4, 4]})"), "test");
        torch::manual_seed(9);
        const ei::VisionTransformer vit(bc, ei::VisionTransformer::randomWeights(bc), "test");
        const QString bpath = dir.filePath("bb.safetensors");
        ei::EiModelFile::writeBackbone(bpath.toStdString(), vit);
        const QString model = dir.filePath("ref.eimodel");
        r = runCli({"init", "--config", dir.filePath("config.json"), "--backbone", bpath, "--out", model});
        QVERIFY2(r.code == 0, r.err.constData());
        r = runCli({"info", model});
        QCOMPARE(QJsonDocument::fromJson(r.out).object()["backbone"].toObject()["file"].toString(), QString("bb.safetensors"));

        writeTensor(dir.filePath("x.npy"), {1, 3, 30, 44});
        r = runCli({"embed", "--backbone", bpath, "--input-tensor", dir.filePath("x.npy"), "--out", dir.filePath("t.npy"),
                    "--precision", "fp32"});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto tokens = ei::readNpy(dir.filePath("t.npy").toStdString());
        QCOMPARE(tokens.shape, (std::vector<std::int64_t>{1 + 4 + 3 * 4, 32}));  // 30x44 pads to 42x56
        const auto x = ei::readNpy(dir.filePath("x.npy").toStdString());
        torch::InferenceMode guard;
        const torch::Tensor expected =
            vit.forward(torch::from_blob(const_cast<float*>(x.values.data()), {1, 3, 30, 44})).tokens[0].contiguous();
        const torch::Tensor got = torch::from_blob(const_cast<float*>(tokens.values.data()), {17, 32});
        QVERIFY(torch::allclose(got, expected, 1e-5, 1e-5));
        QCOMPARE(runCli({"embed", "--backbone", bpath, "--out", dir.filePath("t.npy")}).code, 2);
        QCOMPARE(runCli({"embed", "--backbone", model, "--input-tensor", dir.filePath("x.npy"), "--out",
                         dir.filePath("t2.npy")}).code, 4);
    }
};

EI_REGISTER_TEST(InferCliTest);
#include "InferCliTest.moc"
