// import-backbone's mapping: one tiny random ViT saved by PyTorch in every naming scheme of
// VFM_WEIGHTS.md section 4 must import to the same canonical tensors (bit-exact from F32,
// within the cast from F16 / BF16) and the same inferred config; odd files are refused
// with a message naming the tensor or listing the recognised schemes.
#include "models/import/BackboneImporter.h"
#include "models/Error.h"
#include "models/io/Safetensors.h"
#include "tests/models/ImportFixtures.h"

#include <QTemporaryDir>
#include <QtTest>

namespace {

ei::BackboneImporter::Options headsTwo(const std::string& family = "auto")
{
    ei::BackboneImporter::Options o;
    o.heads = 2;  // d = 32 is not in the ViT size table
    o.family = family;
    return o;
}

}  // namespace

class ImportBackboneTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }

    void expectSame(const std::string& file, const std::string& ref, const std::string& scheme, torch::ScalarType via)
    {
        const auto imported = ei::BackboneImporter::importFile(path(file), headsTwo());
        const auto expected = ei::readSafetensors(path(ref)).tensors;
        QCOMPARE(imported.scheme, scheme);
        QCOMPARE(imported.tensors.size(), expected.size());
        for (const auto& [name, t] : expected) {
            QVERIFY2(imported.tensors.count(name), qPrintable(QString::fromStdString(file + " lacks " + name)));
            const auto& got = imported.tensors.at(name);
            QCOMPARE(got.scalar_type(), torch::kFloat);
            QVERIFY2(torch::equal(got, t.to(via).to(torch::kFloat)), qPrintable(QString::fromStdString(file + ": " + name)));
        }
    }

    void expectRefused(const std::string& file, const std::vector<std::string>& fragments,
                       const ei::BackboneImporter::Options& options = headsTwo())
    {
        try {
            ei::BackboneImporter::importFile(path(file), options);
            QFAIL(qPrintable(QString::fromStdString("accepted " + file)));
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::Model);
            const std::string what = e.what();
            QVERIFY2(what.find(file) != std::string::npos, e.what());
            for (const auto& f : fragments)
                QVERIFY2(what.find(f) != std::string::npos, e.what());
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString failure = ei::test::buildImportFixtures("backbone", dir_.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

    void dinov2SchemesImportToTheSameTensors()
    {
        const auto F = torch::kFloat;
        expectSame("official_dinov2.pth", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_plain.pth", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_wrapped.pth", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_module.pth", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_chunked.pth", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_f32.safetensors", "ref_dinov2.safetensors", "official DINOv2", F);
        expectSame("official_dinov2_half.pth", "ref_dinov2.safetensors", "official DINOv2", torch::kHalf);
        expectSame("official_dinov2_f16.safetensors", "ref_dinov2.safetensors", "official DINOv2", torch::kHalf);
        expectSame("official_dinov2_bf16.safetensors", "ref_dinov2.safetensors", "official DINOv2", torch::kBFloat16);
        expectSame("hf_dinov2.safetensors", "ref_dinov2.safetensors", "Hugging Face Dinov2Model", F);
        expectSame("hf_dinov2_classifier.safetensors", "ref_dinov2.safetensors", "Hugging Face Dinov2Model", F);
        expectSame("timm_dinov2.safetensors", "ref_dinov2.safetensors", "timm DINOv2", F);
        expectSame("official_dinov2_reg.pth", "ref_dinov2_reg.safetensors", "official DINOv2", F);
        expectSame("hf_dinov2_reg.safetensors", "ref_dinov2_reg.safetensors", "Hugging Face Dinov2Model", F);
    }

    void timmReg4FoldsTheClassPositionIntoTheToken()
    {
        // timm stores cls + pos[0] and no class row; canonical gets a zero class row, so
        // cls + pos[0] (what the first block sees) is the same as the official file's.
        const auto timm = ei::BackboneImporter::importFile(path("timm_dinov2_reg.safetensors"), headsTwo());
        const auto official = ei::BackboneImporter::importFile(path("official_dinov2_reg.pth"), headsTwo());
        QCOMPARE(timm.scheme, std::string("timm DINOv2 (registers)"));
        QVERIFY(torch::equal(timm.tensors.at("pos_embed").select(1, 0), torch::zeros({1, 32})));
        QVERIFY(torch::equal(timm.tensors.at("pos_embed").narrow(1, 1, 16), official.tensors.at("pos_embed").narrow(1, 1, 16)));
        const auto seenTimm = timm.tensors.at("cls_token")[0][0] + timm.tensors.at("pos_embed")[0][0];
        const auto seenOfficial = official.tensors.at("cls_token")[0][0] + official.tensors.at("pos_embed")[0][0];
        QVERIFY(torch::allclose(seenTimm, seenOfficial, 0, 1e-6));
        QCOMPARE(timm.config, official.config);
        QCOMPARE(timm.config.at("num_register_tokens").get<int>(), 4);
    }

    void clipSchemesImportToTheSameTensors()
    {
        expectSame("openai_clip.pth", "ref_clip.safetensors", "OpenAI / open_clip CLIP", torch::kFloat);
        expectSame("hf_clip.safetensors", "ref_clip.safetensors", "Hugging Face CLIPVisionModel / CLIPModel", torch::kFloat);
        expectSame("timm_clip.safetensors", "ref_clip.safetensors", "timm CLIP", torch::kFloat);
    }

    void infersTheConfigFromShapes()
    {
        const auto dino = ei::BackboneImporter::importFile(path("hf_dinov2_reg.safetensors"), headsTwo()).config;
        QCOMPARE(dino.at("family").get<std::string>(), std::string("dinov2"));
        QCOMPARE(dino.at("patch_size").get<int>(), 4);
        QCOMPARE(dino.at("embed_dim").get<int>(), 32);
        QCOMPARE(dino.at("depth").get<int>(), 2);
        QCOMPARE(dino.at("num_heads").get<int>(), 2);
        QCOMPARE(dino.at("mlp_ratio").get<double>(), 4.0);
        QCOMPARE(dino.at("num_register_tokens").get<int>(), 4);
        QCOMPARE(dino.at("pos_grid").get<std::vector<int>>(), (std::vector<int>{4, 4}));
        QCOMPARE(dino.at("norm_eps").get<double>(), 1e-6);
        QCOMPARE(dino.at("layer_scale").get<bool>(), true);
        QCOMPARE(dino.at("act").get<std::string>(), std::string("gelu"));
        QCOMPARE(dino.at("pre_norm").get<bool>(), false);
        QCOMPARE(dino.at("patch_bias").get<bool>(), true);
        const auto clip = ei::BackboneImporter::importFile(path("openai_clip.pth"), headsTwo()).config;
        QCOMPARE(clip.at("family").get<std::string>(), std::string("clip"));
        QCOMPARE(clip.at("act").get<std::string>(), std::string("quick_gelu"));
        QCOMPARE(clip.at("norm_eps").get<double>(), 1e-5);
        QCOMPARE(clip.at("layer_scale").get<bool>(), false);
        QCOMPARE(clip.at("pre_norm").get<bool>(), true);
        QCOMPARE(clip.at("patch_bias").get<bool>(), false);
        QCOMPARE(clip.at("num_register_tokens").get<int>(), 0);
    }

    void writtenFileRoundTripsAsCanonical()
    {
        const auto imported = ei::BackboneImporter::importFile(path("hf_clip.safetensors"), headsTwo());
        const std::string out = path("out_clip.safetensors");
        ei::BackboneImporter::write(out, imported);
        const auto file = ei::readSafetensors(out);
        QCOMPARE(nlohmann::json::parse(file.metadata.at("config")), imported.config);
        // The written file is itself importable (canonical scheme; heads from its metadata).
        const auto again = ei::BackboneImporter::importFile(out, {});
        QCOMPARE(again.scheme, std::string("EIView canonical"));
        QCOMPARE(again.config, imported.config);
        for (const auto& [k, t] : imported.tensors)
            QVERIFY(torch::equal(again.tensors.at(k), t));
    }

    void refusesOddFiles()
    {
        expectRefused("missing_tensor.safetensors", {"missing tensor", "blocks.1.attn.proj.weight"});
        expectRefused("misshaped_tensor.safetensors", {"blocks.0.mlp.fc2.bias", "[33]", "expected [32]"});
        expectRefused("unexpected_tensor.safetensors", {"unexpected tensor", "blocks.0.attn.rope"});
        expectRefused("unknown_scheme.safetensors", {"unknown naming scheme", "encoder.weight", "recognised schemes",
                                                     "OpenAI", "Hugging Face DINOv2", "timm CLIP"});
        expectRefused("official_dinov2.pth", {"dinov2", "--family clip"}, headsTwo("clip"));
        expectRefused("official_dinov2.pth", {"heads", "--heads"}, ei::BackboneImporter::Options{});
    }
};

EI_REGISTER_TEST(ImportBackboneTest);
#include "ImportBackboneTest.moc"
