// safetensors reader/writer: round trip, dtypes, and every malformed-file case the
// reader must refuse with a message naming the file (never a crash or a wild read).
#include "models/Error.h"
#include "models/io/Safetensors.h"
#include "tests/TestRegistry.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

namespace {

std::string headerOf(const std::string& json, const std::string& data)
{
    std::string out;
    const std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return out + json + data;
}

void expectModelError(const std::string& bytes, const char* fragment)
{
    try {
        ei::parseSafetensors(bytes, "bad.safetensors");
        QFAIL(qPrintable(QString("accepted a file that should fail with '%1'").arg(fragment)));
    } catch (const ei::Error& e) {
        QCOMPARE(e.kind(), ei::ErrorKind::Model);
        const std::string what = e.what();
        QVERIFY2(what.find("bad.safetensors") != std::string::npos, e.what());
        QVERIFY2(what.find(fragment) != std::string::npos, e.what());
    }
}

}  // namespace

class SafetensorsTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTripKeepsValuesDtypesAndMetadata()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("t.safetensors").toStdString();
        std::map<std::string, torch::Tensor> tensors{
            {"a", torch::randn({3, 5})},
            {"b.half", torch::randn({7}).to(torch::kHalf)},
            {"c.bf16", torch::randn({2, 2}).to(torch::kBFloat16)},
            {"d.long", torch::arange(10, torch::kLong)},
            {"e.scalar", torch::tensor(3.5f).reshape({})},
            {"f.empty", torch::zeros({0, 4})},
        };
        ei::writeSafetensors(path, tensors, {{"format", "eiview-model"}, {"config", "{\"x\":1}"}});
        const auto file = ei::readSafetensors(path);
        QCOMPARE(file.tensors.size(), tensors.size());
        for (const auto& [name, t] : tensors) {
            const auto& r = file.tensors.at(name);
            QCOMPARE(r.scalar_type(), t.scalar_type());
            QCOMPARE(r.sizes().vec(), t.sizes().vec());
            QVERIFY(torch::equal(r, t));
        }
        QCOMPARE(file.metadata.at("format"), std::string("eiview-model"));
        QCOMPARE(ei::readSafetensorsMetadata(path).at("config"), std::string("{\"x\":1}"));
        // Header padded so the buffer starts 8-aligned, as the reference writer does.
        std::ifstream in(path, std::ios::binary);
        unsigned char len[8];
        in.read(reinterpret_cast<char*>(len), 8);
        QCOMPARE(len[0] % 8, 0);
    }

    void unalignedBufferIsCopiedNotAssumed()
    {
        // 3-byte header padding-free: the F32 data starts at an odd file offset.
        const float v[2] = {1.5f, -2.25f};
        std::string data(reinterpret_cast<const char*>(v), 8);
        const std::string json = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
        const auto file = ei::parseSafetensors(headerOf(json, data), "odd.safetensors");
        QCOMPARE(file.tensors.at("x")[1].item<float>(), -2.25f);
    }

    void refusesMalformedFiles()
    {
        const std::string ok = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
        expectModelError("abc", "shorter than the 8-byte header");
        expectModelError(headerOf(ok, std::string(4, '\0')), "outside the data buffer");      // truncated data
        expectModelError(headerOf(ok, "").substr(0, 20), "runs past the end");               // truncated header
        expectModelError(headerOf(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
                         "need 12");                                                           // size lies
        expectModelError(headerOf(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", std::string(8, '\0')),
                         "outside the data buffer");                                           // reversed offsets
        expectModelError(headerOf(R"({"x":{"dtype":"U16","shape":[4],"data_offsets":[0,8]}})", std::string(8, '\0')),
                         "U16");                                                               // dtype LibTorch lacks
        expectModelError(headerOf(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                  R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                  std::string(12, '\0')),
                         "overlap");
        expectModelError(headerOf(ok, std::string(12, '\0')), "trailing bytes");
        expectModelError(headerOf("[1,2]", ""), "does not start with '{'");
        expectModelError(headerOf("{nope", ""), "not valid JSON");
        expectModelError(headerOf(R"({"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", std::string(8, '\0')),
                         "negative");
        std::string huge(8, '\xff');
        expectModelError(huge, "exceeds the limit");
        // Issue 12, #12: a damaged 10 KB header was quoted whole in the message.
        const std::string damaged = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2]" + std::string(10000, '7') + "@";
        try {
            ei::parseSafetensors(headerOf(damaged, ""), "bad.safetensors");
            QFAIL("accepted a damaged header");
        } catch (const ei::Error& e) {
            QVERIFY2(std::string(e.what()).size() < 400, e.what());
            QVERIFY(std::string(e.what()).find("not valid JSON") != std::string::npos);
        }
    }

    void missingFileIsAModelErrorNamingIt()
    {
        try {
            ei::readSafetensors("/nonexistent/w.safetensors");
            QFAIL("no error");
        } catch (const ei::Error& e) {
            QVERIFY(std::string(e.what()).find("/nonexistent/w.safetensors") != std::string::npos);
        }
    }
};

EI_REGISTER_TEST(SafetensorsTest);
#include "SafetensorsTest.moc"
