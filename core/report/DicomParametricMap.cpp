// DicomResultWriter::writeParametricMaps: the similarity maps as DICOM Parametric Maps
// (DCMTK dcmpmap): 32-bit float pixels with the cosine similarity itself (identity real
// world value mapping, no units), one frame per slice, geometry from the source where it
// has one (pixel spacing scaled to the model input, position, orientation, frame of
// reference), and the source instances as derivation images.
#include "core/report/DicomResults.h"

#include "core/io/DicomWrite.h"
#include "core/report/MapOverlay.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgframeanatomy.h>
#include <dcmtk/dcmfg/fgpixeltransform.h>
#include <dcmtk/dcmfg/fgparametricmapframetype.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgrealworldvaluemapping.h>
#include <dcmtk/dcmpmap/dpmparametricmapiod.h>

#include <filesystem>
#include <sstream>

namespace ei {

namespace {

std::string number(double value)
{
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(10);
    out << value;
    return out.str();
}

// What the source instance says about its geometry (empty where it has none: a photo).
struct SourceGeometry {
    std::vector<double> spacing, position, orientation;
    std::string frameOfReference;
    double rows = 0, columns = 0;
};

SourceGeometry geometryOf(DcmDataset& d)
{
    SourceGeometry g;
    const auto doubles = [&](const DcmTagKey& tag, std::size_t count) {
        std::vector<double> v;
        Float64 x = 0;
        for (unsigned long i = 0; i < count && d.findAndGetFloat64(tag, x, i).good(); ++i)
            v.push_back(x);
        return v.size() == count ? v : std::vector<double>{};
    };
    g.spacing = doubles(DCM_PixelSpacing, 2);
    g.position = doubles(DCM_ImagePositionPatient, 3);
    g.orientation = doubles(DCM_ImageOrientationPatient, 6);
    OFString frame;
    d.findAndGetOFString(DCM_FrameOfReferenceUID, frame);
    g.frameOfReference = frame.c_str();
    Uint16 rows = 0, columns = 0;
    d.findAndGetUint16(DCM_Rows, rows);
    d.findAndGetUint16(DCM_Columns, columns);
    g.rows = rows, g.columns = columns;
    return g;
}

void check(const OFCondition& condition, const std::string& what)
{
    if (condition.bad())
        throw ModelError("", "the parametric map refused " + what + ": " + condition.text());
}

}  // namespace

DicomResultSeries DicomResultWriter::writeParametricMaps(const std::string& dir) const
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw BadInputError(dir, "cannot create the output folder");
    DicomResultSeries series{sources_.front().instances.front().studyUid, {}, {}};
    char uid[100];
    series.seriesUid = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);
    int instanceNumber = 0;
    for (const ModalityResult& mr : result_.modalities) {
        const DicomSource* source = sourceOf(mr.name);
        if (mr.missing || !source)
            continue;
        DcmFileFormat sourceFile;
        if (sourceFile.loadFile(source->instances.front().file.c_str(), EXS_Unknown, EGL_noChange, 1024).bad())
            throw BadInputError(source->instances.front().file, "cannot be read again for the parametric map");
        const SourceGeometry geometry = geometryOf(*sourceFile.getDataset());
        for (const SimilarityMap& map : mr.maps) {
            int width = 0, height = 0;
            upsampleMap(map, 0, width, height);
            const IODEnhGeneralEquipmentModule::EquipmentInfo equipment("EIView", "EIView", "1", EIVIEW_VERSION_STRING);
            const ContentIdentificationMacro content(std::to_string(++instanceNumber), "EI_MAP",
                                                     "EI similarity map " + map.kind + " of " + mr.name, "EIView");
            auto created = DPMParametricMapIOD::create<IODFloatingPointImagePixelModule>(
                "OT", "9002", std::to_string(instanceNumber).c_str(), static_cast<Uint16>(height), static_cast<Uint16>(width),
                equipment, content, "VOLUME", "QUANTITY", DPMTypes::CQ_RESEARCH);
            if (OFCondition* failed = OFget<OFCondition>(&created))
                throw ModelError("", std::string("DCMTK could not create a parametric map: ") + failed->text());
            DPMParametricMapIOD& pmap = *OFget<DPMParametricMapIOD>(&created);
            check(pmap.importHierarchy(*sourceFile.getDataset(), OFTrue, OFTrue, !geometry.frameOfReference.empty(), OFFalse),
                  "the source's patient and study");
            check(pmap.getSeries().setSeriesInstanceUID(series.seriesUid.c_str()), "the series");
            check(pmap.getSeries().setSeriesDescription("EIView EI similarity maps (parametric)"), "the series description");
            check(pmap.setRecognizableVisualFeatures(DPMTypes::RVF_NO), "recognizable visual features");

            // Shared groups: spacing, orientation, value mapping, anatomy, frame type.
            FGPixelMeasures measures;
            const double rowSpacing = geometry.spacing.empty() ? 1.0 : geometry.spacing[0] * geometry.rows / height;
            const double columnSpacing = geometry.spacing.empty() ? 1.0 : geometry.spacing[1] * geometry.columns / width;
            check(measures.setPixelSpacing((number(rowSpacing) + "\\" + number(columnSpacing)).c_str()), "the pixel spacing");
            check(measures.setSliceThickness("1"), "the slice thickness");
            check(pmap.addForAllFrames(measures), "the pixel measures");
            const auto& o = geometry.orientation;
            std::unique_ptr<FGPlaneOrientationPatient> orientation(
                o.empty() ? FGPlaneOrientationPatient::createMinimal("1", "0", "0", "0", "1", "0")
                          : FGPlaneOrientationPatient::createMinimal(number(o[0]).c_str(), number(o[1]).c_str(),
                                                                     number(o[2]).c_str(), number(o[3]).c_str(),
                                                                     number(o[4]).c_str(), number(o[5]).c_str()));
            check(pmap.addForAllFrames(*orientation), "the orientation");
            FGPixelValueTransformation identity;
            identity.setUseAsIdentityPixelValueTransformation();
            check(pmap.addForAllFrames(identity), "the pixel value transformation");
            FGFrameAnatomy anatomy;
            check(anatomy.setLaterality(FGFrameAnatomy::LATERALITY_UNPAIRED), "the laterality");
            anatomy.getAnatomy().getAnatomicRegion().set("T-D0050", "SRT", "Tissue");
            check(pmap.addForAllFrames(anatomy), "the anatomy");
            FGParametricMapFrameType frameType;
            check(frameType.setFrameType("DERIVED\\PRIMARY\\VOLUME\\QUANTITY"), "the frame type");
            check(pmap.addForAllFrames(frameType), "the frame type");
            FGRealWorldValueMapping mapping;
            auto* item = new FGRealWorldValueMapping::RWVMItem();
            check(item->setDoubleFloatRealWorldValueFirstValueMapped(-1.0), "the first value mapped");
            check(item->setDoubleFloatRealWorldValueLastValueMapped(1.0), "the last value mapped");
            check(item->setRealWorldValueSlope(1.0), "the slope");
            check(item->setRealWorldValueIntercept(0.0), "the intercept");
            check(item->setLUTExplanation(("cosine similarity, map " + map.kind).c_str()), "the LUT explanation");
            check(item->setLUTLabel("EI_SIM"), "the LUT label");
            item->getMeasurementUnitsCode().set("1", "UCUM", "no units");
            mapping.getRealWorldValueMapping().push_back(item);
            check(pmap.addForAllFrames(mapping), "the real world value mapping");
            OFVector<ImageSOPInstanceReferenceMacro> derivation;
            for (const auto& ref : source->instances) {
                ImageSOPInstanceReferenceMacro macro;
                check(macro.setReferencedSOPClassUID(ref.sopClassUid.c_str()), "a source SOP class");
                check(macro.setReferencedSOPInstanceUID(ref.sopInstanceUid.c_str()), "a source SOP instance");
                derivation.push_back(macro);
            }
            std::unique_ptr<FGDerivationImage> derived(FGDerivationImage::createMinimal(
                derivation, "EI similarity map", CodeSequenceMacro("113076", "DCM", "Segmentation"),
                CodeSequenceMacro("121322", "DCM", "Source image for image processing operation")));
            if (derived)
                check(pmap.addForAllFrames(*derived), "the derivation images");
            const std::string dimensions = dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
            check(pmap.getIODMultiframeDimensionModule().addDimensionIndex(DCM_ImagePositionPatient, dimensions.c_str(),
                                                                           DCM_PlanePositionSequence, "ImagePositionPatient"),
                  "the dimension index");

            auto frames = pmap.getFrames();
            auto* floats = OFget<DPMParametricMapIOD::Frames<Float32>>(&frames);
            if (!floats)
                throw ModelError("", "the parametric map has no float frames");
            for (int s = 0; s < map.slices; ++s) {
                std::vector<float> values = upsampleMap(map, s, width, height);
                const auto& p = geometry.position;
                std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
                    number(p.empty() ? 0.0 : p[0]).c_str(), number(p.empty() ? 0.0 : p[1]).c_str(),
                    number(p.empty() ? static_cast<double>(s) : p[2] + s).c_str()));
                FGFrameContent frameContent;
                check(frameContent.setDimensionIndexValues(static_cast<Uint32>(s + 1), 0), "the frame index");
                OFVector<FGBase*> perFrame{position.get(), &frameContent};
                check(floats->addFrame(values.data(), values.size(), perFrame), "a frame");
            }
            DcmFileFormat file;
            check(pmap.write(*file.getDataset()), "writing");
            const std::string path =
                (std::filesystem::path(dir) / ("EI_" + mr.name + "_" + map.kind + "_pmap.dcm")).string();
            saveDicomFileAtomically(file, path);
            series.files.push_back(path);
        }
    }
    return series;
}

}  // namespace ei
