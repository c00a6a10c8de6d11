#include "core/report/DicomSources.h"

#include "core/io/DicomDirectory.h"
#include "core/io/DicomLoader.h"
#include "core/io/DicomLoaderCommon.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <algorithm>
#include <filesystem>

namespace ei {

namespace {

bool readRef(const std::string& file, DicomInstanceRef& ref)
{
    DcmFileFormat format;
    if (format.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 1024).bad())
        return false;
    DcmDataset* d = format.getDataset();
    OFString sopClass, sopInstance, series, study;
    d->findAndGetOFString(DCM_SOPClassUID, sopClass);
    d->findAndGetOFString(DCM_SOPInstanceUID, sopInstance);
    d->findAndGetOFString(DCM_SeriesInstanceUID, series);
    d->findAndGetOFString(DCM_StudyInstanceUID, study);
    ref = {file, sopClass.c_str(), sopInstance.c_str(), series.c_str(), study.c_str()};
    return true;
}

void requireUids(const std::string& input, const DicomInstanceRef& ref)
{
    if (ref.sopClassUid.empty() || ref.sopInstanceUid.empty() || ref.seriesUid.empty() || ref.studyUid.empty())
        throw BadInputError(input, "lacks its SOP Class, SOP Instance, Series or Study Instance UID; a DICOM result "
                                   "cannot refer to it");
}

std::string patientIdOf(const std::string& file)
{
    DcmFileFormat format;
    OFString id;
    if (format.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 1024).good())
        format.getDataset()->findAndGetOFString(DCM_PatientID, id);
    return id.c_str();
}

}  // namespace

DicomSource readDicomSource(const std::string& slot, const std::string& input, const std::string& seriesUid)
{
    namespace fs = std::filesystem;
    ensureDcmtkReady();
    DicomSource source{slot, input, {}};
    std::error_code ec;
    if (fs::is_regular_file(input, ec)) {
        if (isDicomDirFile(input))
            throw BadInputError(input, "is a DICOMDIR; give the series folder or file for a DICOM result");
        DicomInstanceRef ref;
        if (!readRef(input, ref))
            throw BadInputError(input, "is not a DICOM file; a DICOM result (SR, maps) can only refer to DICOM inputs");
        requireUids(input, ref);
        source.instances.push_back(ref);
        return source;
    }
    if (!fs::is_directory(input, ec))
        throw BadInputError(input, "no such file or folder");
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(input, fs::directory_options::skip_permission_denied, ec))
        if (entry.is_regular_file(ec) && entry.path().filename() != "DICOMDIR" && hasDicomPreamble(entry.path().string()))
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    std::string series = seriesUid;
    for (const auto& file : files) {
        DicomInstanceRef ref;
        if (!readRef(file, ref) || ref.sopInstanceUid.empty())
            continue;
        if (series.empty())
            series = ref.seriesUid;
        if (ref.seriesUid == series) {
            requireUids(file, ref);
            source.instances.push_back(ref);
        }
    }
    if (source.instances.empty())
        throw BadInputError(input, "holds no DICOM series; a DICOM result (SR, maps) can only refer to DICOM inputs");
    return source;
}

void checkOnePatient(const std::vector<DicomSource>& sources)
{
    for (std::size_t i = 1; i < sources.size(); ++i) {
        if (patientIdOf(sources[i].instances.front().file) != patientIdOf(sources.front().instances.front().file))
            throw BadInputError(sources[i].input, "belongs to another patient (Patient ID) than " + sources.front().input +
                                                      "; one result cannot go into two patients' records");
    }
}

}  // namespace ei
