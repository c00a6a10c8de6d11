#include "core/report/DicomResults.h"

#include "core/io/DicomLoaderCommon.h"
#include "core/io/DicomWrite.h"
#include "core/report/MapOverlay.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

namespace ei {

namespace {

// EIView's private coding scheme for what no standard code names (PS3.16 8.2: "99" prefix).
constexpr const char* kScheme = "99EIVIEW";

std::string newUid()
{
    char uid[100];
    return dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
}

std::string decimal(double value)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.6f", value);
    return text;
}

// A code meaning is LO: at most 64 characters.
std::string meaning(const std::string& text)
{
    return text.size() <= 64 ? text : text.substr(0, 61) + "...";
}

// Now, as DICOM date and time.
std::pair<std::string, std::string> now()
{
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    char date[16], time[16];
    std::strftime(date, sizeof date, "%Y%m%d", &local);
    std::strftime(time, sizeof time, "%H%M%S", &local);
    return {date, time};
}

// The Patient and General Study modules of `source`, in UTF-8 (where DCMTK can convert),
// with their Specific Character Set: read once per source, copied into each object.
std::unique_ptr<DcmDataset> patientAndStudyOf(const DicomSource& source)
{
    DcmFileFormat file;
    const std::string& path = source.instances.front().file;
    if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 1024).bad())
        throw BadInputError(path, "cannot be read again to copy the patient and study");
    DcmDataset* from = file.getDataset();
    const bool utf8 = from->convertToUTF8().good();
    auto attributes = std::make_unique<DcmDataset>();
    for (const DcmTagKey& tag : {DCM_PatientName, DCM_PatientID, DCM_IssuerOfPatientID, DCM_PatientBirthDate, DCM_PatientSex,
                                 DCM_StudyInstanceUID, DCM_StudyDate, DCM_StudyTime, DCM_StudyID, DCM_AccessionNumber,
                                 DCM_ReferringPhysicianName, DCM_StudyDescription}) {
        DcmElement* element = nullptr;
        if (from->findAndGetElement(tag, element).good() && element)
            attributes->insert(static_cast<DcmElement*>(element->clone()), OFTrue);
    }
    OFString charset = "ISO_IR 192";
    if (!utf8)
        from->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
    attributes->putAndInsertOFStringArray(DCM_SpecificCharacterSet, charset);
    return attributes;
}

// Copies every element of `from` over what `target` holds (DCMTK's SR writer leaves the
// patient and study empty).
void copyInto(DcmDataset& from, DcmDataset& target)
{
    for (unsigned long i = 0; i < from.card(); ++i)
        target.insert(static_cast<DcmElement*>(from.getElement(i)->clone()), OFTrue);
}

void setEquipment(DcmDataset& d)
{
    d.putAndInsertOFStringArray(DCM_Manufacturer, "EIView");
    d.putAndInsertOFStringArray(DCM_SoftwareVersions, EIVIEW_VERSION_STRING);
}

// Builds the SR content tree depth-first: children go below the open container.
class TreeWriter {
public:
    explicit TreeWriter(DSRDocumentTree& tree, const DSRCodedEntryValue& title) : tree_(tree)
    {
        tree_.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container);
        tree_.getCurrentContentItem().setConceptName(title);
        hasChild_.push_back(false);
    }
    void open(const DSRCodedEntryValue& concept)
    {
        add(DSRTypes::VT_Container, concept);
        hasChild_.push_back(false);
    }
    void close()
    {
        if (hasChild_.back())
            tree_.goUp();
        hasChild_.pop_back();
    }
    void text(const DSRCodedEntryValue& concept, const std::string& value)
    {
        add(DSRTypes::VT_Text, concept);
        check(tree_.getCurrentContentItem().setStringValue(value.c_str()));
    }
    void number(const DSRCodedEntryValue& concept, double value)
    {
        add(DSRTypes::VT_Num, concept);
        check(tree_.getCurrentContentItem().setNumericValue(
            DSRNumericMeasurementValue(decimal(value).c_str(), DSRCodedEntryValue("1", "UCUM", "no units"))));
    }
    void image(const DSRCodedEntryValue& concept, const DicomInstanceRef& ref)
    {
        add(DSRTypes::VT_Image, concept);
        check(tree_.getCurrentContentItem().setImageReference(
            DSRImageReferenceValue(ref.sopClassUid.c_str(), ref.sopInstanceUid.c_str())));
    }

private:
    void add(DSRTypes::E_ValueType type, const DSRCodedEntryValue& concept)
    {
        if (tree_.addContentItem(DSRTypes::RT_contains, type, hasChild_.back() ? DSRTypes::AM_afterCurrent
                                                                              : DSRTypes::AM_belowCurrent) == 0)
            throw ModelError("", "the SR tree refused a content item");
        hasChild_.back() = true;
        check(tree_.getCurrentContentItem().setConceptName(concept));
    }
    static void check(const OFCondition& condition)
    {
        if (condition.bad())
            throw ModelError("", std::string("the SR refused a value: ") + condition.text());
    }

    DSRDocumentTree& tree_;
    std::vector<bool> hasChild_;
};

DSRCodedEntryValue code(const std::string& value, const std::string& text)
{
    return DSRCodedEntryValue(value.c_str(), kScheme, meaning(text).c_str());
}

void probabilities(TreeWriter& tree, const std::vector<std::string>& classes, const std::vector<float>& probs)
{
    for (std::size_t k = 0; k < classes.size() && k < probs.size(); ++k)
        tree.number(code("class-" + std::to_string(k), classes[k]), probs[k]);
}

std::string modelName(const ModelSummary& model)
{
    return std::filesystem::path(model.path).stem().string();
}

void ensureDir(const std::string& dir)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw BadInputError(dir, "cannot create the output folder");
}

}  // namespace

DicomResultWriter::DicomResultWriter(const InferenceResult& result, const ModelSummary& model, std::vector<DicomSource> sources)
    : result_(result), model_(model), sources_(std::move(sources))
{
    if (sources_.empty())
        throw UsageError("a DICOM result needs at least one DICOM input");
    ensureDcmtkReady();
}

const DicomSource* DicomResultWriter::sourceOf(const std::string& slot) const
{
    for (const auto& s : sources_)
        if (s.slot == slot)
            return &s;
    return nullptr;
}

DicomResultSeries DicomResultWriter::writeStructuredReport(const std::string& dir) const
{
    ensureDir(dir);
    const std::string studyUid = sources_.front().instances.front().studyUid;
    DSRDocument document(DSRTypes::DT_ComprehensiveSR);
    document.createNewSeriesInStudy(studyUid.c_str());
    document.setSeriesDescription("EIView EI result");
    document.setManufacturer("EIView");
    document.setSoftwareVersions(EIVIEW_VERSION_STRING);
    document.setSpecificCharacterSetType(DSRTypes::CS_UTF8);

    TreeWriter tree(document.getTree(), DSRCodedEntryValue("18748-4", "LN", "Diagnostic imaging report"));
    tree.text(DSRCodedEntryValue("111001", "DCM", "Algorithm Name"), "EI (Early Intervention) " + modelName(model_));
    tree.text(DSRCodedEntryValue("111003", "DCM", "Algorithm Version"), "sha256:" + result_.modelFingerprint);
    if (!model_.intendedUse.empty())
        tree.text(code("intended-use", "Intended use"), model_.intendedUse);
    tree.text(code("engine", "Inference engine"), std::string("EIView ") + EIVIEW_VERSION_STRING + ", " + result_.fusion +
                                                      " fusion, " + result_.device + ", " + result_.precision);
    tree.open(code("fused", "Fused prediction"));
    probabilities(tree, result_.classes, result_.fusedProbs);
    if (result_.calibrated())
        tree.text(code("calibration", "Calibration"), "temperature scaling fitted on the " + result_.calibrationSplit +
                                                          " split (" + std::to_string(result_.calibrationStudies) + " studies)");
    tree.close();
    if (result_.gate.size() == result_.modalities.size()) {
        tree.open(code("gate", "Gate weights"));
        for (std::size_t m = 0; m < result_.modalities.size(); ++m)
            tree.number(code("gate-" + std::to_string(m), result_.modalities[m].name), result_.gate[m]);
        tree.close();
    }
    for (std::size_t m = 0; m < result_.modalities.size(); ++m) {
        const ModalityResult& mr = result_.modalities[m];
        tree.open(code("modality-" + std::to_string(m), mr.name + " prediction"));
        if (mr.missing) {
            tree.text(code("missing", "Missing modality"), "no " + mr.name + " input: the study ran without it");
        } else {
            probabilities(tree, result_.classes, mr.probs);
            if (const DicomSource* source = sourceOf(mr.name))
                for (const auto& ref : source->instances)
                    tree.image(DSRCodedEntryValue("121112", "DCM", "Source of Measurement"), ref);
        }
        tree.close();
    }
    for (const auto& source : sources_)
        for (const auto& ref : source.instances)
            document.getCurrentRequestedProcedureEvidence().addItem(ref.studyUid.c_str(), ref.seriesUid.c_str(),
                                                                    ref.sopClassUid.c_str(), ref.sopInstanceUid.c_str());
    DcmFileFormat file;
    const OFCondition written = document.write(*file.getDataset());
    if (written.bad())
        throw ModelError("", std::string("DCMTK could not write the SR: ") + written.text());
    copyInto(*patientAndStudyOf(sources_.front()), *file.getDataset());
    const std::string path = (std::filesystem::path(dir) / "EI_SR.dcm").string();
    saveDicomFileAtomically(file, path);
    OFString series;
    file.getDataset()->findAndGetOFString(DCM_SeriesInstanceUID, series);
    return {studyUid, series.c_str(), {path}};
}

DicomResultSeries DicomResultWriter::writeMapCaptures(const std::string& dir,
                                                      const std::map<std::string, std::vector<std::vector<float>>>& backgrounds) const
{
    ensureDir(dir);
    DicomResultSeries series{sources_.front().instances.front().studyUid, newUid(), {}};
    const auto [date, time] = now();
    int instanceNumber = 0;
    for (const ModalityResult& mr : result_.modalities) {
        const DicomSource* source = sourceOf(mr.name);
        if (mr.missing || !source)
            continue;
        const auto pictures = backgrounds.find(mr.name);
        const std::unique_ptr<DcmDataset> patientAndStudy = patientAndStudyOf(*source);
        for (const SimilarityMap& map : mr.maps) {
            std::vector<unsigned char> pixels;
            int rows = 0, columns = 0;
            for (int s = 0; s < map.slices; ++s) {
                const bool hasPicture = pictures != backgrounds.end() && s < static_cast<int>(pictures->second.size());
                const RgbPicture frame = renderMapOverlay(map, s, hasPicture ? pictures->second[static_cast<std::size_t>(s)]
                                                                            : std::vector<float>{});
                rows = frame.height, columns = frame.width;
                pixels.insert(pixels.end(), frame.rgb.begin(), frame.rgb.end());
            }
            DcmFileFormat file;
            DcmDataset& d = *file.getDataset();
            copyInto(*patientAndStudy, d);
            d.putAndInsertOFStringArray(DCM_StudyInstanceUID, series.studyUid.c_str());
            d.putAndInsertOFStringArray(DCM_SOPClassUID, UID_MultiframeTrueColorSecondaryCaptureImageStorage);
            d.putAndInsertOFStringArray(DCM_SOPInstanceUID, newUid().c_str());
            d.putAndInsertOFStringArray(DCM_SeriesInstanceUID, series.seriesUid.c_str());
            d.putAndInsertOFStringArray(DCM_Modality, "OT");
            d.putAndInsertOFStringArray(DCM_SeriesNumber, "9001");
            d.putAndInsertOFStringArray(DCM_SeriesDescription, "EIView EI similarity maps");
            d.putAndInsertOFStringArray(DCM_InstanceNumber, std::to_string(++instanceNumber).c_str());
            d.putAndInsertOFStringArray(DCM_ConversionType, "WSD");
            d.putAndInsertOFStringArray(DCM_ImageType, "DERIVED\\SECONDARY");
            d.putAndInsertOFStringArray(DCM_BurnedInAnnotation, "NO");
            d.putAndInsertOFStringArray(DCM_ContentDate, date.c_str());
            d.putAndInsertOFStringArray(DCM_ContentTime, time.c_str());
            d.putAndInsertOFStringArray(DCM_DerivationDescription,
                                        meaning("EI map " + map.kind + " of " + mr.name + ", jet over the model input").c_str());
            d.putAndInsertOFStringArray(DCM_ImageComments, ("EI similarity map '" + map.kind + "' of " + mr.name +
                                                            " (cosine similarity -1 blue .. +1 red), model " + modelName(model_))
                                                               .c_str());
            setEquipment(d);
            d.putAndInsertUint16(DCM_SamplesPerPixel, 3);
            d.putAndInsertOFStringArray(DCM_PhotometricInterpretation, "RGB");
            d.putAndInsertUint16(DCM_PlanarConfiguration, 0);
            d.putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows));
            d.putAndInsertUint16(DCM_Columns, static_cast<Uint16>(columns));
            d.putAndInsertUint16(DCM_BitsAllocated, 8);
            d.putAndInsertUint16(DCM_BitsStored, 8);
            d.putAndInsertUint16(DCM_HighBit, 7);
            d.putAndInsertUint16(DCM_PixelRepresentation, 0);
            d.putAndInsertOFStringArray(DCM_NumberOfFrames, std::to_string(map.slices).c_str());
            if (map.slices > 1) {
                d.putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_PageNumberVector);
                std::string pages;
                for (int s = 1; s <= map.slices; ++s)
                    pages += (s > 1 ? "\\" : "") + std::to_string(s);
                d.putAndInsertOFStringArray(DCM_PageNumberVector, pages.c_str());
            }
            d.putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
            for (const auto& ref : source->instances) {
                DcmItem* item = nullptr;
                if (d.findOrCreateSequenceItem(DCM_SourceImageSequence, item, -2).good() && item) {
                    item->putAndInsertOFStringArray(DCM_ReferencedSOPClassUID, ref.sopClassUid.c_str());
                    item->putAndInsertOFStringArray(DCM_ReferencedSOPInstanceUID, ref.sopInstanceUid.c_str());
                }
            }
            const std::string path = (std::filesystem::path(dir) / ("EI_" + mr.name + "_" + map.kind + ".dcm")).string();
            saveDicomFileAtomically(file, path);
            series.files.push_back(path);
        }
    }
    return series;
}

}  // namespace ei
