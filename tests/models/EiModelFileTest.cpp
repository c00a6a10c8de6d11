// .eimodel files (MODEL.md section 7, 9.8): round trip with the exact tensor names and
// metadata, referenced backbone with SHA-256 check, missing / mis-shaped / unexpected
// tensors refused as model errors naming the tensor, F16 accepted; and SHA-256 itself.
#include "models/io/EiModelFile.h"
#include "models/Error.h"
#include "models/io/Safetensors.h"
#include "models/io/Sha256.h"
#include "tests/TestRegistry.h"
#include "tests/models/SmallModels.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <iterator>
#include <limits>

using ei::test::smallConfigJson;
using ei::test::smallModel;

namespace {

void expectModelError(const std::string& path, const std::string& fragment)
{
    try {
        ei::EiModelFile::read(path);
        QFAIL(qPrintable(QString::fromStdString("accepted a model that should fail with " + fragment)));
    } catch (const ei::Error& e) {
        QCOMPARE(e.kind(), ei::ErrorKind::Model);
        QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
}

}  // namespace

class EiModelFileTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void sha256KnownVectors()
    {
        QCOMPARE(ei::Sha256::ofBytes(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(ei::Sha256::ofBytes("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(ei::Sha256::ofBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        ei::Sha256 h;
        const std::string chunk(1000, 'a');
        for (int i = 0; i < 1000; ++i)
            h.update(chunk);
        QCOMPARE(h.hexDigest(), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    }

    void embeddedRoundTrip()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.eimodel").toStdString();
        auto model = smallModel(smallConfigJson("ei"));
        ei::EiModelWriteOptions options;
        options.intendedUse = "synthetic test";
        options.trainingJson = R"({"epochs": 0})";
        ei::EiModelFile::write(path, *model, options);

        const auto raw = ei::readSafetensors(path);
        QCOMPARE(raw.metadata.at("format"), std::string("eiview-model"));
        QCOMPARE(raw.metadata.at("format_version"), std::string("1"));
        QCOMPARE(raw.metadata.at("intended_use"), std::string("synthetic test"));
        QCOMPARE(raw.metadata.at("training"), std::string(R"({"epochs": 0})"));
        for (const char* name : {"backbone.cls_token", "backbone.pos_embed", "backbone.patch_embed.bias",
                                 "backbone.blocks.2.attn.qkv.weight", "backbone.blocks.0.ls1", "backbone.norm.bias",
                                 "mor.aux.0.blocks.0.fc1.router.weight", "mor.primary.1.blocks.2.fc2.B2",
                                 "mor.aux.1.blocks.1.fc2.A0", "adapter.0.1.norm.weight", "adapter.1.0.fc2.bias",
                                 "head.primary.0.weight", "head.aux.1.bias", "gate.weight", "gate.bias"})
            QVERIFY2(raw.tensors.count(name), name);
        QCOMPARE(raw.tensors.at("gate.weight").sizes().vec(), (std::vector<std::int64_t>{2, 64}));
        QCOMPARE(raw.tensors.at("mor.aux.0.blocks.0.fc1.router.weight").sizes().vec(), (std::vector<std::int64_t>{4, 32}));
        QCOMPARE(raw.tensors.at("backbone.blocks.0.mlp.fc1.weight").scalar_type(), torch::kFloat);
        QCOMPARE(raw.tensors.size(), model->parameters().size() + model->backbone().weights().size());

        const auto loaded = ei::EiModelFile::read(path);
        QCOMPARE(loaded.model->config().toJson(), model->config().toJson());
        QVERIFY(loaded.backbonePath.empty());
        torch::InferenceMode guard;
        const auto xs = ei::test::smallInputs(model->config());
        QVERIFY(torch::equal(loaded.model->forward(xs).fused, model->forward(xs).fused));
    }

    void referencedBackbone()
    {
        QTemporaryDir dir;
        const std::string bpath = dir.filePath("bb.safetensors").toStdString();
        const std::string path = dir.filePath("m.eimodel").toStdString();
        auto model = smallModel(smallConfigJson("late"));
        ei::EiModelFile::writeBackbone(bpath, model->backbone());
        ei::EiModelWriteOptions options;
        options.backbonePath = bpath;
        ei::EiModelFile::write(path, *model, options);
        const auto meta = ei::readSafetensorsMetadata(path);
        QCOMPARE(meta.at("backbone_file"), std::string("bb.safetensors"));  // relative to the model
        QCOMPARE(meta.at("backbone_sha256"), ei::Sha256::ofFile(bpath));
        const auto raw = ei::readSafetensors(path);
        for (const auto& [name, t] : raw.tensors)
            QVERIFY2(name.rfind("backbone.", 0) != 0, name.c_str());
        const auto loaded = ei::EiModelFile::read(path);
        QVERIFY(torch::equal(loaded.model->backbone().weights().at("pos_embed"), model->backbone().weights().at("pos_embed")));

        // a changed backbone file: SHA mismatch
        auto weights = model->backbone().weights();
        weights["norm.bias"] = weights["norm.bias"] + 1.0;
        ei::writeSafetensors(bpath, weights, {{"config", model->backbone().config().toJson().dump()}});
        expectModelError(path, "SHA-256 mismatch");
        QFile::remove(QString::fromStdString(bpath));
        expectModelError(path, "does not exist");

        // Issue 12, #6b: a backbone_file naming /dev/zero made `infer` read forever.
        auto meta2 = ei::readSafetensorsMetadata(path);
        auto raw2 = ei::readSafetensors(path);
        meta2["backbone_file"] = "/dev/zero";
        const std::string zero = dir.filePath("zero.eimodel").toStdString();
        ei::writeSafetensors(zero, raw2.tensors, meta2);
        expectModelError(zero, "is not a regular file");
    }

    void flippedBitsInTheTensorDataAreCaught()
    {
        // Issue 12, #9: flipped bits in an .eimodel's tensor data changed the prediction
        // without a word. The writer stores a SHA-256 of the tensor data; the reader checks it.
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.eimodel").toStdString();
        auto model = smallModel(smallConfigJson("ei"));
        ei::EiModelFile::write(path, *model);
        QVERIFY(ei::EiModelFile::read(path).integrityChecked);
        std::string bytes;
        {
            std::ifstream in(path, std::ios::binary);
            bytes.assign(std::istreambuf_iterator<char>(in), {});
        }
        // Flip one bit in the last tensor bytes (past the JSON header): still a valid file.
        std::string damaged = bytes;
        damaged[damaged.size() - 17] ^= 0x10;
        const std::string bad = dir.filePath("flipped.eimodel").toStdString();
        std::ofstream(bad, std::ios::binary) << damaged;
        expectModelError(bad, "does not match its SHA-256 digest");
        // A file written before digests still loads (and says it was not checked).
        auto raw = ei::readSafetensors(path);
        raw.metadata.erase(ei::kTensorDigestKey);
        const std::string old = dir.filePath("old.eimodel").toStdString();
        ei::writeSafetensors(old, raw.tensors, raw.metadata);
        QVERIFY(!ei::EiModelFile::read(old).integrityChecked);
    }

    void nonFiniteWeightsRefused()
    {
        // Issue 12, #6: a model whose weights hold NaN gave NaN predictions with exit 0.
        QTemporaryDir dir;
        const std::string good = dir.filePath("good.eimodel").toStdString();
        auto model = smallModel(smallConfigJson("ei"));
        ei::EiModelFile::write(good, *model);
        auto raw = ei::readSafetensors(good);
        raw.metadata.erase(ei::kTensorDigestKey);  // NaN written by another tool, no digest
        const std::string bad = dir.filePath("nan.eimodel").toStdString();
        auto tensors = raw.tensors;
        tensors["head.aux.0.weight"] = tensors["head.aux.0.weight"].clone();
        tensors["head.aux.0.weight"].view(-1)[3] = std::numeric_limits<float>::quiet_NaN();
        ei::writeSafetensors(bad, tensors, raw.metadata);
        expectModelError(bad, "head.aux.0.weight holds non-finite values");
        tensors = raw.tensors;
        tensors["backbone.norm.bias"] = tensors["backbone.norm.bias"].clone();
        tensors["backbone.norm.bias"].view(-1)[0] = std::numeric_limits<float>::infinity();
        ei::writeSafetensors(bad, tensors, raw.metadata);
        expectModelError(bad, "backbone.norm.bias holds non-finite values");
    }

    void badTensorsRefused()
    {
        QTemporaryDir dir;
        const std::string good = dir.filePath("good.eimodel").toStdString();
        auto model = smallModel(smallConfigJson("ei"));
        ei::EiModelFile::write(good, *model);
        auto raw = ei::readSafetensors(good);
        raw.metadata.erase(ei::kTensorDigestKey);  // hand-edited files: the other checks must catch them

        const std::string bad = dir.filePath("bad.eimodel").toStdString();
        auto missing = raw.tensors;
        missing.erase("adapter.1.0.fc1.weight");
        ei::writeSafetensors(bad, missing, raw.metadata);
        expectModelError(bad, "adapter.1.0.fc1.weight");

        auto shaped = raw.tensors;
        shaped["head.aux.0.weight"] = torch::zeros({4, 32});
        ei::writeSafetensors(bad, shaped, raw.metadata);
        expectModelError(bad, "head.aux.0.weight");

        auto extra = raw.tensors;
        extra["mor.uni.0.blocks.0.fc1.A0"] = torch::zeros({2, 32});
        ei::writeSafetensors(bad, extra, raw.metadata);
        expectModelError(bad, "mor.uni.0.blocks.0.fc1.A0");

        auto noBackbone = raw.tensors;
        noBackbone.erase("backbone.blocks.1.ls2");
        ei::writeSafetensors(bad, noBackbone, raw.metadata);
        expectModelError(bad, "blocks.1.ls2");

        auto meta = raw.metadata;
        meta["format"] = "something-else";
        ei::writeSafetensors(bad, raw.tensors, meta);
        expectModelError(bad, "format");

        // F16 / BF16 are accepted on read
        auto half = raw.tensors;
        for (auto& [name, t] : half)
            t = name.rfind("backbone.", 0) == 0 ? t.to(torch::kHalf) : t.to(torch::kBFloat16);
        ei::writeSafetensors(bad, half, raw.metadata);
        const auto loaded = ei::EiModelFile::read(bad);
        QCOMPARE(loaded.model->parameters().at("gate.weight").scalar_type(), torch::kFloat);
    }
};

EI_REGISTER_TEST(EiModelFileTest);
#include "EiModelFileTest.moc"
