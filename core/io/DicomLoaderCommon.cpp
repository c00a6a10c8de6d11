// DCMTK set-up and tag reading shared by DicomLoader and DicomDirectory.
#include "core/io/DicomLoaderCommon.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimage/diregist.h>  // colour (RGB / YBR / PALETTE) support for DicomImage
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <iconv.h>


#include <cstdio>
#include <mutex>

namespace ei {

void ensureDcmtkReady()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

namespace {

// Decodes text with ISO 2022 escape sequences as ISO-2022-JP-2 (JIS X 0208 / 0212 and
// ASCII / JIS X 0201 Roman), which glibc's iconv knows and DCMTK's use of it does not.
bool decodeIso2022(const std::string& in, std::string& out)
{
    iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP-2");
    if (cd == reinterpret_cast<iconv_t>(-1))
        return false;
    std::string buffer(in.size() * 4 + 16, '\0');
    char* src = const_cast<char*>(in.data());
    std::size_t srcLeft = in.size(), dstLeft = buffer.size();
    char* dst = buffer.data();
    const bool ok = iconv(cd, &src, &srcLeft, &dst, &dstLeft) != static_cast<std::size_t>(-1) &&
                    iconv(cd, nullptr, nullptr, &dst, &dstLeft) != static_cast<std::size_t>(-1);
    iconv_close(cd);
    if (ok)
        out.assign(buffer.data(), buffer.size() - dstLeft);
    return ok;
}

void decodeIso2022Strings(DcmItem* item, int depth)
{
    if (item == nullptr || depth > 8)
        return;
    for (unsigned long i = 0; i < item->card(); ++i) {
        DcmElement* e = item->getElement(i);
        const DcmEVR vr = e->ident();
        if (vr == EVR_SQ) {
            auto* sq = static_cast<DcmSequenceOfItems*>(e);
            for (unsigned long k = 0; k < sq->card(); ++k)
                decodeIso2022Strings(sq->getItem(k), depth + 1);
            continue;
        }
        if (vr != EVR_PN && vr != EVR_LO && vr != EVR_SH && vr != EVR_ST && vr != EVR_LT && vr != EVR_UT && vr != EVR_UC)
            continue;
        OFString value;
        std::string decoded;
        if (e->getOFStringArray(value).good() && value.find('\x1b') != OFString_npos &&
            decodeIso2022(value.c_str(), decoded))
            e->putOFStringArray(decoded.c_str());
    }
}

}  // namespace

void convertToUtf8(DcmDataset* dataset)
{
    if (dataset == nullptr)
        return;
    if (dataset->convertToUTF8().good())
        return;
    // DCMTK could not convert (e.g. ISO 2022 IR 87 through glibc): decode what carries
    // ISO 2022 escapes ourselves; the rest is made valid by validUtf8 when read.
    const std::string charset = dicomString(dataset, DCM_SpecificCharacterSet);
    if (charset.find("ISO 2022") != std::string::npos)
        decodeIso2022Strings(dataset, 0);
}

std::string validUtf8(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    const auto* b = reinterpret_cast<const unsigned char*>(s.data());
    const std::size_t n = s.size();
    for (std::size_t i = 0; i < n;) {
        const unsigned char c = b[i];
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        bool ok = len > 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k)
            ok = (b[i + k] & 0xc0) == 0x80;
        if (ok && len > 1) {  // no overlong forms, surrogates or values past U+10FFFF
            unsigned cp = c & (0xff >> (len + 1));
            for (std::size_t k = 1; k < len; ++k)
                cp = (cp << 6) | (b[i + k] & 0x3f);
            ok = !(len == 2 && cp < 0x80) && !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
                 !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff;
        }
        if (ok && c != 0) {
            out.append(s, i, len);
            i += len;
        } else {
            out += c == 0 ? "" : "\xEF\xBF\xBD";  // NUL bytes dropped, other invalid bytes replaced
            i += 1;
        }
    }
    return out;
}

std::string dicomString(DcmItem* item, const DcmTagKey& key)
{
    if (item == nullptr)
        return {};
    OFString value;
    if (item->findAndGetOFStringArray(key, value).bad())
        return {};
    std::string s = value.c_str();
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos)
        return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return validUtf8(s.substr(first, last - first + 1));
}

void readDicomTags(DcmItem* ds, ImageTags& tags, PatientIdentity& patient)
{
    convertToUtf8(dynamic_cast<DcmDataset*>(ds));
    tags.modality = dicomString(ds, DCM_Modality);
    tags.laterality = dicomString(ds, DCM_Laterality);
    if (tags.laterality.empty())
        tags.laterality = dicomString(ds, DCM_ImageLaterality);
    tags.seriesDescription = dicomString(ds, DCM_SeriesDescription);
    tags.studyDate = dicomString(ds, DCM_StudyDate);
    tags.manufacturer = dicomString(ds, DCM_Manufacturer);
    tags.bodyPart = dicomString(ds, DCM_BodyPartExamined);
    tags.seriesInstanceUid = dicomString(ds, DCM_SeriesInstanceUID);
    // A few more non-identifying facts for the study panel and slot rules.
    const std::pair<DcmTagKey, const char*> extra[] = {
        {DCM_SOPClassUID, "(0008,0016) SOPClassUID"},
        {DCM_ImageType, "(0008,0008) ImageType"},
        {DCM_StudyDescription, "(0008,1030) StudyDescription"},
        {DCM_SeriesNumber, "(0020,0011) SeriesNumber"},
        {DCM_InstanceNumber, "(0020,0013) InstanceNumber"},
        {DCM_ImageOrientationPatient, "(0020,0037) ImageOrientationPatient"},
        {DCM_SliceThickness, "(0018,0050) SliceThickness"},
        {DCM_RescaleSlope, "(0028,1053) RescaleSlope"},
        {DCM_RescaleIntercept, "(0028,1052) RescaleIntercept"},
        {DCM_ManufacturerModelName, "(0008,1090) ManufacturerModelName"},
    };
    for (const auto& [key, name] : extra) {
        const std::string v = dicomString(ds, key);
        if (!v.empty())
            tags.other[name] = v;
    }
    tags.elements.clear();
    readDicomElements(ds, tags.elements);
    patient.name = dicomString(ds, DCM_PatientName);
    patient.id = dicomString(ds, DCM_PatientID);
    patient.birthDate = dicomString(ds, DCM_PatientBirthDate);
    patient.sex = dicomString(ds, DCM_PatientSex);
    patient.accessionNumber = dicomString(ds, DCM_AccessionNumber);
    patient.institution = dicomString(ds, DCM_InstitutionName);
}

bool isIdentifyingTag(const DcmTagKey& key, DcmEVR vr)
{
    if (vr == EVR_PN || key.getGroup() == 0x0010)
        return true;
    static const DcmTagKey identifying[] = {
        DCM_AccessionNumber, DCM_InstitutionName, DCM_InstitutionAddress, DCM_InstitutionalDepartmentName,
        DCM_StationName, DCM_DeviceSerialNumber, DCM_StudyID, DCM_ReferringPhysicianAddress,
        DCM_ReferringPhysicianTelephoneNumbers, DCM_RequestingService, DCM_AdmissionID,
        DCM_PerformedProcedureStepID, DCM_ScheduledProcedureStepID, DCM_RequestedProcedureID,
        DCM_OperatorsName, DCM_PerformingPhysicianName, DCM_PhysiciansOfRecord, DCM_PersonAddress,
    };
    for (const DcmTagKey& k : identifying)
        if (k == key)
            return true;
    return false;
}

namespace {

constexpr std::size_t kMaxElements = 5000;
constexpr int kMaxDepth = 6;

void listItem(DcmItem* item, int depth, std::vector<DicomElement>& out)
{
    for (unsigned long i = 0; i < item->card() && out.size() < kMaxElements; ++i) {
        DcmElement* e = item->getElement(i);
        DcmTag tag = e->getTag();
        DicomElement row;
        char buf[16];
        std::snprintf(buf, sizeof buf, "(%04X,%04X)", tag.getGTag(), tag.getETag());
        row.tag = buf;
        row.name = tag.getTagName() ? tag.getTagName() : "";
        row.vr = DcmVR(e->getVR()).getVRName();
        row.depth = depth;
        const DcmEVR vr = e->ident();
        if (isIdentifyingTag(tag, e->getVR())) {
            row.value = kHiddenValue;
        } else if (vr == EVR_SQ) {
            auto* sq = static_cast<DcmSequenceOfItems*>(e);
            row.value = std::to_string(sq->card()) + (sq->card() == 1 ? " item" : " items");
        } else if (vr == EVR_OB || vr == EVR_OW || vr == EVR_OF || vr == EVR_OD || vr == EVR_OL || vr == EVR_UN ||
                   vr == EVR_pixelSQ || vr == EVR_ox || vr == EVR_px || tag == DCM_PixelData) {
            row.value = "<" + std::to_string(e->getLength()) + " bytes>";
        } else {
            OFString v;
            if (e->getOFStringArray(v).good())
                row.value = validUtf8(v.c_str());
            if (row.value.size() > 256)
                row.value = row.value.substr(0, 253) + "...";
        }
        out.push_back(std::move(row));
        if (vr == EVR_SQ && depth < kMaxDepth && !isIdentifyingTag(tag, e->getVR())) {
            auto* sq = static_cast<DcmSequenceOfItems*>(e);
            for (unsigned long k = 0; k < sq->card() && out.size() < kMaxElements; ++k) {
                DicomElement itemRow;
                itemRow.tag = "item " + std::to_string(k + 1);
                itemRow.depth = depth + 1;
                out.push_back(itemRow);
                listItem(sq->getItem(k), depth + 2, out);
            }
        }
    }
}

}  // namespace

void readDicomElements(DcmItem* dataset, std::vector<DicomElement>& out)
{
    if (dataset)
        listItem(dataset, 0, out);
}

bool isDicomDirObject(DcmFileFormat& file)
{
    return dicomString(file.getMetaInfo(), DCM_MediaStorageSOPClassUID) == UID_MediaStorageDirectoryStorage ||
           dicomString(file.getDataset(), DCM_SOPClassUID) == UID_MediaStorageDirectoryStorage ||
           file.getDataset()->tagExists(DCM_DirectoryRecordSequence);
}

}  // namespace ei
