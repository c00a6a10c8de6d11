// Model config (MODEL.md section 7 / 9.15): defaults, JSON round trip, and every kind of
// bad key refused with a message that names the key.
#include "models/ei/EiModel.h"
#include "models/Error.h"
#include "models/ei/ModelConfig.h"
#include "tests/TestRegistry.h"

#include <nlohmann/json.hpp>

#include <QtTest>

using nlohmann::json;

namespace {

json minimal()
{
    return json{{"modalities", {{{"name", "CFP"}, {"kind", "image"}, {"size", {448, 448}}},
                                {{"name", "OCT"}, {"kind", "image"}, {"size", {448, 448}}}}},
                {"classes", {"normal", "dryAMD", "PCV", "wetAMD"}}};
}

}  // namespace

class ModelConfigTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void defaults()
    {
        const ei::ModelConfig c = ei::ModelConfig::fromJson(minimal(), "c.json");
        QCOMPARE(c.backbone.family, std::string("dinov2"));
        QCOMPARE(c.backbone.depth, 12);
        QCOMPARE(c.acquireLayer, 12);
        QCOMPARE(c.insertLayer, 0);
        QCOMPARE(c.fusion, std::string("ei"));
        QCOMPARE(c.mor.targets, (std::vector<std::string>{"fc1", "fc2"}));
        QCOMPARE(c.mor.routerOutputs(), 4);
        QCOMPARE(c.adapterHidden, 384);
        QCOMPARE(c.slicePoolAux, std::string("max"));
        QCOMPARE(c.slicePoolPrimary, std::string("mean"));
        QCOMPARE(c.backbone.resolvedPosInterp(), std::string("offset"));
        json reg = minimal();
        reg["backbone"] = {{"num_register_tokens", 4}};
        QCOMPARE(ei::ModelConfig::fromJson(reg, "c.json").backbone.resolvedPosInterp(), std::string("size_antialias"));
        json vol = minimal();
        vol["modalities"][1] = {{"name", "MRI"}, {"kind", "volume"}, {"size", {224, 224}}};
        QCOMPARE(ei::ModelConfig::fromJson(vol, "c.json").modalities[1].slices, 4);
    }

    void roundTrip()
    {
        json j = minimal();
        j["mor"] = {{"ranks", {2, 4}}, {"alphas", {1.5, 3}}, {"targets", {"q", "v"}}, {"bypass", false}};
        j["int"] = {{"acquire_layer", 6}, {"insert_layer", 3}};
        j["multilabel"] = true;
        const ei::ModelConfig a = ei::ModelConfig::fromJson(j, "c.json");
        const ei::ModelConfig b = ei::ModelConfig::fromJsonText(a.toJsonText(), "again");
        QCOMPARE(b.toJson(), a.toJson());
        QCOMPARE(b.acquireLayer, 6);
        QCOMPARE(b.mor.alphas, (std::vector<double>{1.5, 3}));
        QVERIFY(!b.mor.bypass);
    }

    void badKeysNamed_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("key");
        QTest::newRow("unknown top") << R"({"colour": 1})" << "colour";
        QTest::newRow("unknown backbone") << R"({"backbone": {"widht": 3}})" << "backbone.widht";
        QTest::newRow("alphas length") << R"({"mor": {"ranks": [2, 4], "alphas": [4, 8, 16]}})" << "mor.alphas";
        QTest::newRow("target") << R"({"mor": {"targets": ["fc3"]}})" << "mor.targets";
        QTest::newRow("fusion") << R"({"fusion": "early"})" << "fusion";
        QTest::newRow("acquire") << R"({"int": {"acquire_layer": 13}})" << "int.acquire_layer";
        QTest::newRow("insert") << R"({"int": {"insert_layer": -1}})" << "int.insert_layer";
        QTest::newRow("pos_interp") << R"({"backbone": {"pos_interp": "nearest"}})" << "backbone.pos_interp";
        QTest::newRow("heads") << R"({"backbone": {"num_heads": 5}})" << "backbone.num_heads";
        QTest::newRow("type") << R"({"multilabel": "yes"})" << "multilabel";
        QTest::newRow("slice pool") << R"({"slice_pool": {"aux": "median"}})" << "slice_pool.aux";
        QTest::newRow("adapter key") << R"({"adapter": {"width": 3}})" << "adapter.width";
        QTest::newRow("mean") << R"({"mean": [0.5, 0.5]})" << "mean";
        QTest::newRow("unimodal two") << R"({"fusion": "unimodal"})" << "fusion";
        // 450 is not a multiple of 14 (448 would be, and is rightly accepted).
        QTest::newRow("no pad") << R"({"backbone": {"pad_to_patch": false}, "modalities": [)"
                                   R"({"name": "CFP", "kind": "image", "size": [450, 450]},)"
                                   R"({"name": "OCT", "kind": "image", "size": [448, 448]}]})"
                                << "modalities[0].size";
    }
    void badKeysNamed()
    {
        QFETCH(QString, patch);
        QFETCH(QString, key);
        json j = minimal();
        j.merge_patch(json::parse(patch.toStdString()));
        try {
            ei::ModelConfig::fromJson(j, "bad.json");
            QFAIL("accepted a bad config");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            const std::string what = e.what();
            QVERIFY2(what.find("bad.json") != std::string::npos, e.what());
            QVERIFY2(what.find("'" + key.toStdString() + "'") != std::string::npos, e.what());
        }
    }

    void modalityErrorsNamed()
    {
        json j = minimal();
        j["modalities"][1]["slices"] = 4;  // an image with slices
        try {
            ei::ModelConfig::fromJson(j, "bad.json");
            QFAIL("accepted slices on an image");
        } catch (const ei::Error& e) {
            QVERIFY2(std::string(e.what()).find("modalities[1].slices") != std::string::npos, e.what());
        }
        json k = minimal();
        k["modalities"][1]["name"] = "CFP";
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::ModelConfig::fromJson(k, "bad.json"));
        json missing = minimal();
        missing.erase("classes");
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::ModelConfig::fromJson(missing, "bad.json"));
    }

    // The paper's Table 5 / MODEL.md section 5: 7.10M trainable for ViT-B, M = 2, C = 4.
    void trainableCountViTB()
    {
        std::int64_t n = 0;
        for (const auto& [name, shape] : ei::EiModel::tensorShapes(ei::ModelConfig::fromJson(minimal(), "c.json"))) {
            std::int64_t e = 1;
            for (auto s : shape)
                e *= s;
            n += e;
        }
        QCOMPARE(n, std::int64_t(7099026));
        // one MoR set + one 4-class head (the paper's Table 7: 1.478M)
        json uni = minimal();
        uni["fusion"] = "unimodal";
        uni["modalities"].erase(1);
        std::int64_t u = 0;
        for (const auto& [name, shape] : ei::EiModel::tensorShapes(ei::ModelConfig::fromJson(uni, "c.json"))) {
            std::int64_t e = 1;
            for (auto s : shape)
                e *= s;
            u += e;
        }
        QCOMPARE(u, std::int64_t(1477732));
    }
};

EI_REGISTER_TEST(ModelConfigTest);
#include "ModelConfigTest.moc"
