// eiview-cli import-backbone / import-ei end to end: exit codes of MODEL.md section 8
// (0 ok, 2 usage, 3 bad config, 4 bad weights), messages that name the file and the
// problem, and no output file left behind when an import fails.
#include "models/io/NpyFile.h"
#include "models/io/Safetensors.h"
#include "tests/TestRegistry.h"
#include "tests/models/ImportFixtures.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
};

Run runCli(const QStringList& args)
{
    QProcess p;
    p.start(ei::test::cliPath(), args);
    Run r;
    if (!p.waitForFinished(120000))
        return r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

}  // namespace

class ImportCliTest : public QObject {
    Q_OBJECT
private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        QString failure = ei::test::buildImportFixtures("backbone", dir_.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        failure = ei::test::buildImportFixtures("ei", dir_.path());
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
    }

    void importBackboneWritesCanonicalWeights()
    {
        const QString out = path("b.safetensors");
        const Run r = runCli({"import-backbone", "--in", path("hf_dinov2_reg.safetensors"), "--heads", "2", "--out", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto json = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(json.at("scheme").get<std::string>(), std::string("Hugging Face Dinov2Model"));
        QCOMPARE(json.at("config").at("num_register_tokens").get<int>(), 4);
        const auto file = ei::readSafetensors(out.toStdString());
        const auto ref = ei::readSafetensors(path("ref_dinov2_reg.safetensors").toStdString()).tensors;
        QCOMPARE(file.tensors.size(), ref.size());
        for (const auto& [k, t] : ref)
            QVERIFY2(torch::equal(file.tensors.at(k), t), k.c_str());
        QVERIFY(file.metadata.count("config"));
    }

    void importBackboneRefusesBadWeightsWithExitFour()
    {
        // a truncated .pth
        QFile good(path("official_dinov2.pth"));
        QVERIFY(good.open(QIODevice::ReadOnly));
        const QByteArray bytes = good.readAll();
        QFile cut(path("truncated.pth"));
        QVERIFY(cut.open(QIODevice::WriteOnly));
        cut.write(bytes.left(bytes.size() / 3));
        cut.close();
        const QString out = path("never.safetensors");
        Run r = runCli({"import-backbone", "--in", path("truncated.pth"), "--heads", "2", "--out", out});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("truncated.pth") && r.err.contains("zip"), qPrintable(r.err));
        r = runCli({"import-backbone", "--in", path("unknown_scheme.safetensors"), "--out", out});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("unknown naming scheme") && r.err.contains("recognised"), qPrintable(r.err));
        r = runCli({"import-backbone", "--in", path("missing_tensor.safetensors"), "--heads", "2", "--out", out});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("blocks.1.attn.proj.weight"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out));
    }

    void usageErrorsExitTwo()
    {
        Run r = runCli({"import-backbone", "--in", path("hf_clip.safetensors")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--out"), qPrintable(r.err));
        r = runCli({"import-backbone", "--in", path("hf_clip.safetensors"), "--family", "resnet", "--out", path("x")});
        QCOMPARE(r.code, 2);
        r = runCli({"import-ei", "--config", path("ei_dinov2.json"), "--out", path("x.eimodel")});
        QCOMPARE(r.code, 2);
        QVERIFY2(r.err.contains("--ckpt"), qPrintable(r.err));
    }

    void importEiWritesAModel()
    {
        const QString out = path("m.eimodel");
        const Run r = runCli({"import-ei", "--config", path("ei_clip_permuted.json"), "--ckpt", path("ei_clip_permuted.pth"),
                              "--heads", "2", "--out", out});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto file = ei::readSafetensors(out.toStdString());
        const auto expected = ei::readSafetensors(path("ei_clip_permuted.expected.safetensors").toStdString()).tensors;
        QCOMPARE(file.tensors.size(), expected.size());
        QVERIFY(torch::equal(file.tensors.at("gate.weight"), expected.at("gate.weight")));
        QCOMPARE(file.metadata.at("format"), std::string("eiview-model"));
    }

    void timmAndOfficialReg4GiveTheSameTokens()
    {
        // timm folds pos[0] into cls_token; the import must undo that exactly, so the
        // engine's tokens of the two files agree (also where positions are interpolated).
        const QStringList files{"official_dinov2_reg.pth", "timm_dinov2_reg.safetensors", "hf_dinov2_reg.safetensors"};
        for (const auto& f : files) {
            const Run r = runCli({"import-backbone", "--in", path(f), "--heads", "2", "--out", path(f + ".b")});
            QVERIFY2(r.code == 0, qPrintable(r.err));
        }
        torch::manual_seed(5);
        for (const std::vector<std::int64_t>& shape : {std::vector<std::int64_t>{1, 3, 16, 16}, {1, 3, 24, 20}}) {
            const auto x = torch::randn(shape);
            ei::writeNpy(path("x.npy").toStdString(), shape, x.data_ptr<float>());
            std::vector<torch::Tensor> tokens;
            for (const auto& f : files) {
                const Run r = runCli({"embed", "--backbone", path(f + ".b"), "--input-tensor", path("x.npy"), "--out",
                                      path(f + ".npy"), "--precision", "fp32"});
                QVERIFY2(r.code == 0, qPrintable(r.err));
                const auto a = ei::readNpy(path(f + ".npy").toStdString());
                tokens.push_back(torch::tensor(a.values).reshape(a.shape));
            }
            QCOMPARE(tokens[0].size(0), 1 + 4 + (shape[2] / 4) * (shape[3] / 4));
            for (std::size_t i = 1; i < tokens.size(); ++i)
                QVERIFY2(torch::allclose(tokens[i], tokens[0], 0, 1e-5),
                         qPrintable(QString("%1 vs %2: max diff %3").arg(files[i], files[0])
                                        .arg((tokens[i] - tokens[0]).abs().max().item<float>())));
        }
    }

    void importedModelsGiveTheOfficialLogits()
    {
        // import_fixtures.py computes the logits with the official code's forward on the
        // official key names; the imported model run by the engine must agree.
        for (const QString name : {"ei_dinov2", "ei_clip_permuted", "ei_mrnet"}) {
            const QString model = path(name + ".parity.eimodel");
            Run r = runCli({"import-ei", "--config", path(name + ".json"), "--ckpt", path(name + ".pth"), "--heads", "2",
                            "--out", model});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            std::ifstream in(path(name + ".logits.json").toStdString());
            const auto ref = nlohmann::json::parse(in);
            QStringList args{"infer", "--model", model, "--device", "cpu", "--precision", "fp32", "--json",
                             path(name + ".out.json")};
            for (const auto& n : ref.at("names"))
                args << "--input-tensor" << QString::fromStdString(n.get<std::string>()) + "=" +
                                                path(name + ".input." + QString::fromStdString(n.get<std::string>()) + ".npy");
            r = runCli(args);
            QVERIFY2(r.code == 0, qPrintable(r.err));
            std::ifstream outJson(path(name + ".out.json").toStdString());
            const auto got = nlohmann::json::parse(outJson);
            auto close = [&](const nlohmann::json& a, const nlohmann::json& b, const char* what) {
                const auto va = a.get<std::vector<double>>();
                const auto vb = b.get<std::vector<double>>();
                QVERIFY2(va.size() == vb.size(), what);
                for (std::size_t i = 0; i < va.size(); ++i)
                    QVERIFY2(std::abs(va[i] - vb[i]) < 1e-4,
                             qPrintable(QString("%1 %2[%3]: %4 vs %5").arg(name, what).arg(i).arg(va[i]).arg(vb[i])));
            };
            close(got.at("fused").at("logits"), ref.at("fused"), "fused");
            close(got.at("gate"), ref.at("gate"), "gate");
            for (std::size_t m = 0; m < ref.at("names").size(); ++m) {
                QCOMPARE(got.at("modalities")[m].at("name"), ref.at("names")[m]);
                close(got.at("modalities")[m].at("logits"), ref.at("logits")[m], "logits");
                close(got.at("modalities")[m].at("aux_logits"), ref.at("aux_logits")[m], "aux_logits");
            }
        }
    }

    void importEiRefusesDifferingCopiesAndBadConfigs()
    {
        const QString out = path("never.eimodel");
        Run r = runCli({"import-ei", "--config", path("ei_differ.json"), "--ckpt", path("ei_differ.pth"), "--heads", "2",
                        "--out", out});
        QCOMPARE(r.code, 4);
        QVERIFY2(r.err.contains("ei_differ.pth") && r.err.contains("bit-identical"), qPrintable(r.err));
        QFile cfg(path("nonet.json"));
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"({"augmentation_params": [{"size_h": 16, "size_w": 16}], "classes": ["a"]})");
        cfg.close();
        r = runCli({"import-ei", "--config", path("nonet.json"), "--ckpt", path("ei_dinov2.pth"), "--heads", "2", "--out", out});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("nonet.json") && r.err.contains("'net'"), qPrintable(r.err));
        QVERIFY(!QFile::exists(out));
    }
};

EI_REGISTER_TEST(ImportCliTest);
#include "ImportCliTest.moc"
