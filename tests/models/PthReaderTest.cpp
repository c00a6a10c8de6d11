// The torch.save reader: state dicts PyTorch wrote (OrderedDict with _metadata, plain dict,
// {"model": sd}, half storages, views at an offset) read back exactly; damaged files
// (truncated, corrupt zip directory, unknown pickle opcode, legacy format) refused with a
// ModelError naming the file and the problem.
#include "models/Error.h"
#include "models/import/PthReader.h"
#include "models/io/Safetensors.h"
#include "tests/models/ImportFixtures.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

namespace {

std::string readAll(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void expectModelError(const std::string& bytes, const std::string& fragment)
{
    try {
        ei::parsePthStateDict(bytes, "bad.pth");
        QFAIL(qPrintable(QString("accepted a file that should fail with '%1'").arg(QString::fromStdString(fragment))));
    } catch (const ei::Error& e) {
        QCOMPARE(e.kind(), ei::ErrorKind::Model);
        const std::string what = e.what();
        QVERIFY2(what.find("bad.pth") != std::string::npos, e.what());
        QVERIFY2(what.find(fragment) != std::string::npos, e.what());
    }
}

}  // namespace

class PthReaderTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }
    std::map<std::string, torch::Tensor> reference_;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString failure = ei::test::buildImportFixtures("backbone", dir_.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        reference_ = ei::readSafetensors(path("official_dinov2_f32.safetensors")).tensors;
        QVERIFY(reference_.size() > 30);
    }

    void readsEveryContainerShapeExactly()
    {
        for (const char* name : {"official_dinov2.pth", "official_dinov2_plain.pth", "official_dinov2_wrapped.pth",
                                 "official_dinov2_view.pth"}) {
            const auto sd = ei::readPthStateDict(path(name));
            QCOMPARE(sd.size(), reference_.size());
            for (const auto& [k, t] : reference_) {
                QVERIFY2(sd.count(k), qPrintable(QString("%1 lacks %2").arg(name, QString::fromStdString(k))));
                QCOMPARE(sd.at(k).scalar_type(), torch::kFloat);
                QVERIFY2(torch::equal(sd.at(k), t), qPrintable(QString("%1: %2").arg(name, QString::fromStdString(k))));
            }
        }
        const auto module = ei::readPthStateDict(path("official_dinov2_module.pth"));
        QVERIFY(module.count("module.cls_token"));
        QVERIFY(torch::equal(module.at("module.norm.weight"), reference_.at("norm.weight")));
    }

    void keepsHalfStorages()
    {
        const auto sd = ei::readPthStateDict(path("official_dinov2_half.pth"));
        QCOMPARE(sd.at("pos_embed").scalar_type(), torch::kHalf);
        QVERIFY(torch::equal(sd.at("pos_embed"), reference_.at("pos_embed").to(torch::kHalf)));
    }

    void refusesDamagedFiles()
    {
        const std::string good = readAll(path("official_dinov2.pth"));
        expectModelError(good.substr(0, good.size() / 2), "zip");              // truncated: no directory
        expectModelError(good.substr(0, good.size() - 30), "zip");             // truncated inside the directory
        std::string corrupt = good;
        const auto dir = corrupt.rfind(std::string("PK\x01\x02", 4));
        QVERIFY(dir != std::string::npos);
        corrupt[dir + 2] = 'X';  // a central directory entry signature
        expectModelError(corrupt, "corrupt zip archive");
        std::string lying = good;  // an entry whose local header offset points past the end
        const auto first = lying.find(std::string("PK\x01\x02", 4));
        for (int i = 0; i < 4; ++i)
            lying[first + 42 + i] = '\x7f';
        expectModelError(lying, "corrupt zip archive");

        std::string opcode = good;
        const auto pkl = opcode.find("data.pkl");
        const auto proto = opcode.find(std::string("\x80\x02", 2), pkl);
        QVERIFY(proto != std::string::npos);
        opcode[proto + 2] = '\xfe';
        expectModelError(opcode, "unsupported pickle opcode 0xfe");

        expectModelError(readAll(path("official_dinov2_legacy.pth")), "legacy");
        expectModelError("hello world", "not a PyTorch zip file");
    }

    void missingFileNamesIt()
    {
        try {
            ei::readPthStateDict("/nonexistent/x.pth");
            QFAIL("no error");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::Model);
            QVERIFY(std::string(e.what()).find("/nonexistent/x.pth") != std::string::npos);
        }
    }
};

EI_REGISTER_TEST(PthReaderTest);
#include "PthReaderTest.moc"
