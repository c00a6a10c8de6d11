// DCMTK set-up and tag reading shared by DicomLoader and DicomDirectory.
#include "core/io/DicomLoaderCommon.h"

#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimage/diregist.h>  // colour (RGB / YBR / PALETTE) support for DicomImage
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

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
    return s.substr(first, last - first + 1);
}

void readDicomTags(DcmItem* ds, ImageTags& tags, PatientIdentity& patient)
{
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
    patient.name = dicomString(ds, DCM_PatientName);
    patient.id = dicomString(ds, DCM_PatientID);
    patient.birthDate = dicomString(ds, DCM_PatientBirthDate);
    patient.sex = dicomString(ds, DCM_PatientSex);
    patient.accessionNumber = dicomString(ds, DCM_AccessionNumber);
    patient.institution = dicomString(ds, DCM_InstitutionName);
}

bool isDicomDirObject(DcmFileFormat& file)
{
    return dicomString(file.getMetaInfo(), DCM_MediaStorageSOPClassUID) == UID_MediaStorageDirectoryStorage ||
           dicomString(file.getDataset(), DCM_SOPClassUID) == UID_MediaStorageDirectoryStorage ||
           file.getDataset()->tagExists(DCM_DirectoryRecordSequence);
}

}  // namespace ei
