// NIfTI / NRRD / MetaImage through ITK and MGH / MGZ through our reader, against nibabel
// (run from the fetched Debian package with /usr/bin/python3) and against the same data in
// another container format; canonical orientation checked on a synthetic volume whose
// voxels say where they are.
#include "core/io/ImageLoader.h"
#include "core/io/VolumeLoader.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"
#include "tests/core/LoaderTestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace ei::test;

namespace {

ei::Image load(const QString& path) { return ei::loadImage(path.toStdString()); }

// nibabel's reading, reoriented by tests/core/nibabel_reference.py.
ei::NpyArray nibabelReference(const QString& path, const QString& work, std::string* plane)
{
    const QString out = work + "/ref.npy";
    const auto r = runProcess(pythonPath(), {QString(EIVIEW_SOURCE_DIR) + "/tests/core/nibabel_reference.py", path, out},
                              nibabelEnvironment());
    if (r.exitCode != 0)
        qFatal("nibabel reference failed: %s", r.err.constData());
    *plane = nlohmann::json::parse(r.out.toStdString()).at("plane").get<std::string>();
    return ei::readNpy(out.toStdString());
}

// A .nrrd with attached data, made from a detached .nhdr header and its raw file.
QString attachNrrd(const QString& nhdr, const QString& dest)
{
    QFile in(nhdr);
    in.open(QIODevice::ReadOnly);
    QByteArray header;
    QString dataFile;
    for (const QByteArray& line : in.readAll().split('\n')) {
        if (line.startsWith("data file:") || line.startsWith("datafile:")) {
            dataFile = QString::fromUtf8(line.mid(line.indexOf(':') + 1).trimmed());
            continue;
        }
        if (line.trimmed().isEmpty())
            continue;
        header += line + "\n";
    }
    QFile raw(QFileInfo(nhdr).path() + "/" + dataFile);
    raw.open(QIODevice::ReadOnly);
    QFile out(dest);
    out.open(QIODevice::WriteOnly);
    out.write(header + "\n" + raw.readAll());
    return dest;
}

}  // namespace

class VolumeLoaderTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void niftiAndMgzMatchNibabel_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("volumes");
        QTest::newRow("NIfTI-1 .nii.gz, RAS uint8") << "standard.nii.gz" << "nifti" << 1;
        QTest::newRow("NIfTI-1 .nii, big-endian int16, LAS") << "anatomical.nii" << "nifti" << 1;
        QTest::newRow("NIfTI-1 4-D: first volume") << "example4d.nii.gz" << "nifti" << 2;
        QTest::newRow("NIfTI-1 float, RAS") << "reoriented_anat_moved.nii" << "nifti" << 1;
        QTest::newRow("NIfTI-1 4-D, scaled") << "functional.nii" << "nifti" << 20;
        QTest::newRow("MGZ, sagittal, 2 frames") << "test.mgz" << "mgh" << 2;
    }
    void niftiAndMgzMatchNibabel()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        QFETCH(int, volumes);
        QTemporaryDir tmp;
        const QString path = nibabelData(file);
        const QByteArray before = fingerprint(path);
        const ei::Image im = load(path);
        std::string plane;
        const ei::NpyArray ref = nibabelReference(path, tmp.path(), &plane);
        QCOMPARE(QString::fromStdString(im.format), format);
        QCOMPARE(im.canonicalPlane, plane);
        QCOMPARE(std::vector<std::int64_t>({im.slices, im.height, im.width}), ref.shape);
        QVERIFY2(maxAbsDiff(im.pixels, ref.values) < 1e-3, qPrintable(QString::number(maxAbsDiff(im.pixels, ref.values))));
        const auto v = im.tags.other.find("volumes");
        QCOMPARE(v == im.tags.other.end() ? 1 : std::stoi(v->second), volumes);
        QVERIFY(im.hasGeometry);
        QCOMPARE(fingerprint(path), before);
    }

    void nrrdAndMetaImageAgreeWithThePng()
    {
        // ITK's examples hold the same slice as PNG, MetaImage (.mhd + .raw), NRRD (.nhdr).
        const ei::Image png = load(itkData("BrainProtonDensitySliceBorder20.png"));
        const ei::Image mhd = load(itkData("BrainProtonDensitySliceBorder20.mhd"));
        const ei::Image nhdr = load(itkData("BrainProtonDensitySliceBorder20.nhdr"));
        QTemporaryDir tmp;
        const ei::Image nrrd = load(attachNrrd(itkData("BrainProtonDensitySliceBorder20.nhdr"), tmp.filePath("slice.nrrd")));
        QCOMPARE(mhd.format, std::string("metaimage"));
        QCOMPARE(nhdr.format, std::string("nrrd"));
        QCOMPARE(nrrd.format, std::string("nrrd"));
        for (const ei::Image* im : {&mhd, &nhdr, &nrrd}) {
            QCOMPARE(im->width, png.width);
            QCOMPARE(im->height, png.height);
            QCOMPARE(im->slices, 1);
            QCOMPARE(maxAbsDiff(im->pixels, png.pixels), 0.0);
        }
        // .mha with its zlib-compressed float body inside (ElementDataFile = LOCAL).
        const ei::Image mha = load(itkData("CorpusCallosumMeanShape.mha"));
        QCOMPARE(mha.format, std::string("metaimage"));
        QCOMPARE(mha.width, 58);
        QCOMPARE(mha.height, 31);
        QCOMPARE(mha.bitsStored, 32);
        QVERIFY(*std::min_element(mha.pixels.begin(), mha.pixels.end()) < 0);  // signed float data kept
        QCOMPARE(mha.spacing[0], 2.0);
    }

    void rotatedDirectionsKeepTheirVoxels()
    {
        // The +30 degree MHD (zlib-compressed .zraw body) holds the plain one's data; a 2-D
        // rotation about the slice normal never flips, so the voxels stay as stored.
        const ei::Image plain = load(itkData("BrainProtonDensitySliceBorder20.mhd"));
        const ei::Image rotated = load(itkData("BrainProtonDensitySliceBorder20DirectionPlus30.mhd"));
        QCOMPARE(maxAbsDiff(plain.pixels, rotated.pixels), 0.0);
        QVERIFY(std::abs(rotated.direction[0] - std::cos(M_PI / 6)) < 1e-4);
    }

    void nifti2IsRefusedClearly()
    {
        // ITK 5.2 (Debian 12) has no NIfTI-2 reader; the message says so.
        try {
            load(nibabelData("example_nifti2.nii.gz"));
            QFAIL("NIfTI-2 accepted");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            QVERIFY2(QString(e.what()).contains("example_nifti2.nii.gz") && QString(e.what()).contains("NIfTI-2"), e.what());
        }
    }

    void vectorAndComplexVoxelsAreRefused()
    {
        try {
            load(itkData("itkBrainSliceComplex.mha"));
            QFAIL("complex image accepted");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            QVERIFY2(QString(e.what()).contains("itkBrainSliceComplex.mha"), e.what());
        }
    }

    void canonicalOrientationOfEveryPlane_data()
    {
        QTest::addColumn<QString>("plane");
        QTest::addColumn<QVector<double>>("direction");  // voxel axis directions (LPS), column-wise
        // Stored like NIfTI from a scanner in RAS order: x -> R, y -> A, z -> S.
        QTest::newRow("axial RAS") << "axial" << QVector<double>{-1, 0, 0, 0, -1, 0, 0, 0, 1};
        QTest::newRow("axial LPI") << "axial" << QVector<double>{1, 0, 0, 0, 1, 0, 0, 0, -1};
        QTest::newRow("coronal: y stored as S, z as A") << "coronal" << QVector<double>{-1, 0, 0, 0, 0, 1, 0, -1, 0};
        QTest::newRow("sagittal: x is A, y is S, z is R") << "sagittal" << QVector<double>{0, -1, 0, 0, 0, 1, -1, 0, 0};
        QTest::newRow("sagittal, in-plane axes swapped") << "sagittal" << QVector<double>{0, 0, 1, 0, 1, 0, 1, 0, 0};
    }
    void canonicalOrientationOfEveryPlane()
    {
        QFETCH(QString, plane);
        QFETCH(QVector<double>, direction);
        // Voxel value encodes its patient position: 10000*x + 100*y + z (LPS mm, +50 offset).
        ei::Image im;
        im.width = 4, im.height = 3, im.slices = 5, im.channels = 1;
        im.hasGeometry = true;
        im.spacing = {1.0, 2.0, 3.0};
        im.origin = {1, 2, 3};
        for (int i = 0; i < 9; ++i)
            im.direction[i] = direction[i];
        auto position = [&](const ei::Image& v, int c, int r, int s, int k) {
            return v.origin[k] + c * v.spacing[0] * v.direction[k] + r * v.spacing[1] * v.direction[3 + k] +
                   s * v.spacing[2] * v.direction[6 + k];
        };
        for (int s = 0; s < im.slices; ++s)
            for (int r = 0; r < im.height; ++r)
                for (int c = 0; c < im.width; ++c)
                    im.pixels.push_back(static_cast<float>(10000 * (position(im, c, r, s, 0) + 50) +
                                                           100 * (position(im, c, r, s, 1) + 50) + (position(im, c, r, s, 2) + 50)));
        ei::Image out = im;
        ei::reorientToCanonical(out);
        QCOMPARE(QString::fromStdString(out.canonicalPlane), plane);
        // Every voxel still sits where its value says.
        for (int s = 0; s < out.slices; ++s)
            for (int r = 0; r < out.height; ++r)
                for (int c = 0; c < out.width; ++c) {
                    const float want = static_cast<float>(10000 * (position(out, c, r, s, 0) + 50) +
                                                          100 * (position(out, c, r, s, 1) + 50) + (position(out, c, r, s, 2) + 50));
                    QCOMPARE(out.at(s, r, c), want);
                }
        // And the axes run the radiological way (LPS: +x left, +y posterior, +z superior).
        auto axis = [&](int a, int k) { return out.direction[a * 3 + k]; };
        if (plane == "axial") {
            QVERIFY(axis(0, 0) > 0.9 && axis(1, 1) > 0.9 && axis(2, 2) > 0.9);
        } else if (plane == "coronal") {
            QVERIFY(axis(0, 0) > 0.9 && axis(1, 2) < -0.9 && axis(2, 1) > 0.9);
        } else {
            QVERIFY(axis(0, 1) > 0.9 && axis(1, 2) < -0.9 && axis(2, 0) > 0.9);
        }
    }
};

EI_REGISTER_TEST(VolumeLoaderTest);
#include "VolumeLoaderTest.moc"
