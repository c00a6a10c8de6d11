// import-ei: tiny checkpoints with the official EI code's key names and layout (2M
// backbone copies, `.linear` base weights, projs_cls, route; OFFICIAL_EI.md section 3)
// must become .eimodel files whose every tensor equals the canonical one the fixture
// script derived independently (gate permuted for a non-ascending modality_idx), with
// the config values of OFFICIAL_EI.md section 8; copies that differ are refused.
#include "models/Error.h"
#include "models/import/OfficialEiImporter.h"
#include "models/io/Safetensors.h"
#include "models/io/Sha256.h"
#include "tests/models/ImportFixtures.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

namespace {

nlohmann::json readJson(const std::string& path)
{
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

}  // namespace

class ImportEiTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string path(const std::string& name) const { return dir_.filePath(QString::fromStdString(name)).toStdString(); }

    ei::OfficialEiImporter::Options options(const std::string& name) const
    {
        ei::OfficialEiImporter::Options o;
        o.configPath = path(name + ".json");
        o.checkpointPath = path(name + ".pth");
        o.heads = 2;
        return o;
    }

    void checkImport(const std::string& name)
    {
        const std::string out = path(name + ".eimodel");
        ei::OfficialEiImporter::importToFile(options(name), out);
        const auto file = ei::readSafetensors(out);
        const auto expected = ei::readSafetensors(path(name + ".expected.safetensors")).tensors;
        QCOMPARE(file.tensors.size(), expected.size());
        for (const auto& [k, t] : expected) {
            QVERIFY2(file.tensors.count(k), qPrintable(QString::fromStdString(name + " lacks " + k)));
            QCOMPARE(file.tensors.at(k).scalar_type(), torch::kFloat);
            QVERIFY2(torch::equal(file.tensors.at(k), t), qPrintable(QString::fromStdString(name + ": " + k)));
        }
        QCOMPARE(file.metadata.at("format"), std::string("eiview-model"));
        QCOMPARE(file.metadata.at("format_version"), std::string("1"));
        const auto cfg = nlohmann::json::parse(file.metadata.at("config"));
        const auto want = readJson(path(name + ".expected.json"));
        QCOMPARE(cfg.at("backbone").at("family"), want.at("family"));
        QCOMPARE(cfg.at("backbone").at("num_register_tokens"), want.at("num_register_tokens"));
        QCOMPARE(cfg.at("backbone").at("pad_to_patch").get<bool>(), true);
        QCOMPARE(cfg.at("classes"), want.at("classes"));
        QCOMPARE(cfg.at("multilabel"), want.at("multilabel"));
        QCOMPARE(cfg.at("fusion").get<std::string>(), std::string("ei"));
        QCOMPARE(cfg.at("modalities").size(), want.at("modalities").get<std::size_t>());
        const auto official = readJson(path(name + ".json"));
        for (std::size_t m = 0; m < cfg.at("modalities").size(); ++m)  // modality_idx order, names from the config
            QCOMPARE(cfg.at("modalities")[m].at("name"), official.at("modality_names")[m]);
        for (const auto& m : cfg.at("modalities")) {
            QCOMPARE(m.at("kind"), want.at("kind"));
            QCOMPARE(m.at("size").get<std::vector<int>>(), (std::vector<int>{16, 16}));
            if (want.at("kind") == "volume")
                QCOMPARE(m.at("slices").get<int>(), 4);
        }
        QCOMPARE(cfg.at("mor").at("targets"), want.at("targets"));
        QCOMPARE(cfg.at("mor").at("ranks").get<std::vector<int>>(), (std::vector<int>{2, 4, 8}));
        QCOMPARE(cfg.at("mor").at("alphas").get<std::vector<double>>(), (std::vector<double>{4, 8, 16}));
        QCOMPARE(cfg.at("mor").at("bypass").get<bool>(), true);
        QCOMPARE(cfg.at("int").at("acquire_layer").get<int>(), 2);  // = depth: the final normed CLS
        QCOMPARE(cfg.at("int").at("insert_layer").get<int>(), 0);
        QCOMPARE(cfg.at("adapter").at("hidden").get<int>(), 384);
        QCOMPARE(cfg.at("slice_pool").at("aux").get<std::string>(), std::string("max"));
        QCOMPARE(cfg.at("slice_pool").at("primary").get<std::string>(), std::string("mean"));
        for (int c = 0; c < 3; ++c) {
            // the engine keeps mean / std as float
            QVERIFY(std::abs(cfg.at("mean")[c].get<double>() - want.at("mean")[c].get<double>()) < 1e-7);
            QVERIFY(std::abs(cfg.at("std")[c].get<double>() - want.at("std")[c].get<double>()) < 1e-7);
        }
        const auto training = nlohmann::json::parse(file.metadata.at("training"));
        QVERIFY(training.contains("prior_gaps"));
    }

    void expectError(const ei::OfficialEiImporter::Options& o, ei::ErrorKind kind, const std::vector<std::string>& fragments)
    {
        try {
            ei::OfficialEiImporter::convert(o);
            QFAIL("accepted");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), kind);
            for (const auto& f : fragments)
                QVERIFY2(std::string(e.what()).find(f) != std::string::npos, e.what());
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString failure = ei::test::buildImportFixtures("ei", dir_.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

    void importsDinov2Reg4() { checkImport("ei_dinov2"); }
    void importsClipWithNonAscendingModalityIdx() { checkImport("ei_clip_permuted"); }
    void importsAVolumeMultilabelModelOfThreeModalities() { checkImport("ei_mrnet"); }

    void referencesAnEqualBackboneBySha256()
    {
        auto o = options("ei_dinov2");
        o.backbonePath = path("ei_dinov2.backbone.safetensors");
        const std::string out = path("sub_ref.eimodel");
        ei::OfficialEiImporter::importToFile(o, out);
        const auto file = ei::readSafetensors(out);
        QCOMPARE(file.metadata.at("backbone_file"), std::string("ei_dinov2.backbone.safetensors"));
        QCOMPARE(file.metadata.at("backbone_sha256"), ei::Sha256::ofFile(o.backbonePath));
        for (const auto& [k, t] : file.tensors)
            QVERIFY2(k.rfind("backbone.", 0) != 0, k.c_str());
        // Another backbone (same shapes, other values) is refused.
        o.backbonePath = path("ei_mrnet.backbone.safetensors");
        expectError(o, ei::ErrorKind::Model, {"differs at tensor"});
    }

    void stageOneCheckpointBecomesAUnimodalModel()
    {
        auto o = options("ei_dinov2");
        o.checkpointPath = path("ei_dinov2.uni0.pth");
        nlohmann::json cfg = readJson(o.configPath);
        cfg["modality_idx"] = {0};
        std::ofstream(path("uni.json")) << cfg.dump();
        o.configPath = path("uni.json");
        const auto model = ei::OfficialEiImporter::convert(o);
        QCOMPARE(model.config.at("fusion").get<std::string>(), std::string("unimodal"));
        const auto expected = ei::readSafetensors(path("ei_dinov2.expected.safetensors")).tensors;
        std::size_t n = 0;
        for (const auto& [k, t] : expected) {
            for (const std::string from : {"mor.aux.0.", "head.aux.0."}) {
                if (k.rfind(from, 0) == 0) {
                    const std::string uni = (from[0] == 'm' ? "mor.uni.0." : "head.uni.0.") + k.substr(from.size());
                    QVERIFY2(model.parameters.count(uni), uni.c_str());
                    QVERIFY(torch::equal(model.parameters.at(uni), t));
                    ++n;
                }
            }
        }
        QCOMPARE(model.parameters.size(), n);
    }

    void uniCheckpointMustShareTheBackbone()
    {
        auto o = options("ei_dinov2");
        o.uniCheckpoints = {{"0", path("ei_dinov2.uni0.pth")}};
        ei::OfficialEiImporter::convert(o);  // same run: accepted
        o.uniCheckpoints = {{"1", path("ei_mrnet.uni0.pth")}};
        expectError(o, ei::ErrorKind::Model, {"ei_mrnet.uni0.pth", "differs"});
    }

    void refusesBackboneCopiesThatDiffer()
    {
        expectError(options("ei_differ"), ei::ErrorKind::Model,
                    {"ei_differ.pth", "second_backbones.1.backbone.", "blocks.1.attn.proj.weight"});
    }

    void importsTheOfficialFilesAsShipped()
    {
        // Issue 12, #8: the paper's code nests its settings under training_params, keeps
        // the MoR settings in the stage-1 configs an EI config names, and the class names
        // in paths.mapping_path (all relative to the repository root). Laid out here as the
        // repository does (configs_mul/, configs_uni/, datasplit/), from the flat fixture.
        const auto flat = readJson(path("ei_dinov2.json"));
        QTemporaryDir repo;
        QDir(repo.path()).mkpath("configs_mul");
        QDir(repo.path()).mkpath("configs_uni");
        QDir(repo.path()).mkpath("datasplit");
        std::ofstream(repo.filePath("datasplit/mapping_test.json").toStdString()) << flat.at("mapping").dump();
        const auto idx = flat.at("modality_idx").get<std::vector<int>>();
        nlohmann::json pretrained = nlohmann::json::array();
        for (int m : idx) {
            const std::string name = "configs_uni/test_dinov2_b_modal" + std::to_string(m) + "_sgd_mor3.json";
            nlohmann::json uni{{"paths", {{"mapping_path", "./datasplit/mapping_test.json"}}},
                               {"training_params",
                                {{"modality_idx", {m}}, {"transfer_type", "mor"}, {"net", "dinov2_b"},
                                 {"lora_params",
                                  {{"r", flat.at("lora_params").at("r")}, {"alpha", flat.at("lora_params").at("alpha")},
                                   {"lora_layers", flat.at("lora_layers")}, {"num_loras", flat.at("lora_params").at("r").size()}}},
                                 {"loss_func", flat.at("loss_func")}}},
                               {"augmentation_params", flat.at("augmentation_params")}};
            std::ofstream(repo.filePath(QString::fromStdString(name)).toStdString()) << uni.dump(4);
            pretrained.push_back(name);
        }
        nlohmann::json ei{{"paths", {{"mapping_path", "./datasplit/mapping_test.json"}, {"output_root", "./out"}}},
                          {"training_params",
                           {{"modality_idx", idx}, {"net", "dinov2_b_ei"}, {"model_params", {{"pretrained_configs", pretrained}}},
                            {"prior_gaps", flat.at("prior_gaps")}, {"loss_func", flat.at("loss_func")}, {"n_class", 4}}},
                          {"augmentation_params", flat.at("augmentation_params")}};
        const QString official = repo.filePath("configs_mul/test_dinov2_b_ei_modal01.json");
        std::ofstream(official.toStdString()) << ei.dump(4);

        auto o = options("ei_dinov2");
        const auto reference = ei::OfficialEiImporter::convert(o);
        o.configPath = official.toStdString();
        const auto asShipped = ei::OfficialEiImporter::convert(o);
        auto a = reference.config, b = asShipped.config;
        for (auto* c : {&a, &b})
            for (auto& m : (*c)["modalities"])
                m.erase("name");  // the flat fixture names its modalities; the official files do not
        QCOMPARE(QString::fromStdString(b.dump()), QString::fromStdString(a.dump()));
        QCOMPARE(asShipped.parameters.size(), reference.parameters.size());
        for (const auto& [name, t] : reference.parameters)
            QVERIFY2(torch::equal(t, asShipped.parameters.at(name)), name.c_str());

        // Files elsewhere: named explicitly; missing ones are named in the message.
        QFile::rename(repo.filePath("datasplit/mapping_test.json"), repo.filePath("classes.json"));
        expectError(o, ei::ErrorKind::BadInput, {"paths.mapping_path", "--classes"});
        o.classesPath = repo.filePath("classes.json").toStdString();
        QCOMPARE(ei::OfficialEiImporter::convert(o).config.at("classes"), reference.config.at("classes"));
        const QString uni0 = repo.filePath("configs_uni/test_dinov2_b_modal" + QString::number(idx[0]) + "_sgd_mor3.json");
        QFile::rename(uni0, repo.filePath("stage1-0.json"));
        expectError(o, ei::ErrorKind::BadInput, {"stage-1 config", "--stage1-config 0=FILE"});
        o.stage1Configs = {{"0", repo.filePath("stage1-0.json").toStdString()}};
        QCOMPARE(ei::OfficialEiImporter::convert(o).parameters.size(), reference.parameters.size());
    }

    void importsDataParallelAndGpuCheckpoints()
    {
        // Checkpoints saved through DataParallel ("module." keys) and on a GPU ("cuda:0"
        // storage locations) import like the plain ones.
        for (const char* variant : {"module", "cuda"}) {
            auto o = options("ei_dinov2");
            const auto reference = ei::OfficialEiImporter::convert(o);
            o.checkpointPath = path(std::string("ei_dinov2.") + variant + ".pth");
            const auto other = ei::OfficialEiImporter::convert(o);
            QCOMPARE(other.parameters.size(), reference.parameters.size());
            for (const auto& [name, t] : reference.parameters)
                QVERIFY2(torch::equal(t, other.parameters.at(name)), (std::string(variant) + ": " + name).c_str());
        }
    }

    void refusesConfigsItCannotUse()
    {
        const auto base = readJson(path("ei_dinov2.json"));
        auto write = [&](const nlohmann::json& j) {
            std::ofstream(path("bad.json")) << j.dump();
            auto o = options("ei_dinov2");
            o.configPath = path("bad.json");
            return o;
        };
        auto j = base;
        j.erase("net");
        expectError(write(j), ei::ErrorKind::BadInput, {"bad.json", "'net'"});
        j = base;
        j.erase("mapping");
        expectError(write(j), ei::ErrorKind::BadInput, {"'mapping'"});
        j = base;
        j["net"] = "resnet50";
        expectError(write(j), ei::ErrorKind::BadInput, {"'net'", "resnet50"});
        j = base;
        j["lora_layers"] = {"mlp_fc1", "mlp_fc2"};  // the checkpoint also adapts q
        expectError(write(j), ei::ErrorKind::Model, {"mor.aux.0.blocks.0.q"});
        j = base;
        j["modality_idx"] = {0, 2};
        expectError(write(j), ei::ErrorKind::BadInput, {"'modality_idx'"});
        j = base;
        j["mapping"] = "classes.json";  // a mapping file beside the config
        std::ofstream(path("classes.json")) << R"({"no_amd": 0, "dry_amd": 1, "pcv": 2, "wet_amd": 3})";
        const auto model = ei::OfficialEiImporter::convert(write(j));
        QCOMPARE(model.config.at("classes").get<std::vector<std::string>>(),
                 (std::vector<std::string>{"no_amd", "dry_amd", "pcv", "wet_amd"}));
    }
};

EI_REGISTER_TEST(ImportEiTest);
#include "ImportEiTest.moc"
