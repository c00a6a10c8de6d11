#include "core/pacs/ReceivedInstance.h"

#include "core/io/DicomWrite.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <filesystem>
#include <system_error>

namespace ei {

bool isDicomUid(const std::string& uid)
{
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.' || uid.find("..") != std::string::npos)
        return false;
    return uid.find_first_not_of("0123456789.") == std::string::npos;
}

std::string writeReceivedInstance(DcmDataset& dataset, const std::string& dir)
{
    OFString series, instance;
    dataset.findAndGetOFString(DCM_SeriesInstanceUID, series);
    dataset.findAndGetOFString(DCM_SOPInstanceUID, instance);
    const std::string seriesUid = series.c_str(), instanceUid = instance.c_str();
    if (!isDicomUid(seriesUid) || !isDicomUid(instanceUid))
        throw BadInputError(dir, "a received instance has no valid Series or SOP Instance UID; it was not saved");
    namespace fs = std::filesystem;
    const fs::path seriesDir = fs::path(dir) / seriesUid;
    std::error_code ec;
    fs::create_directories(seriesDir, ec);
    if (ec)
        throw BadInputError(seriesDir.string(), "cannot create the folder: " + ec.message());
    const fs::path target = seriesDir / (instanceUid + ".dcm");
    DcmFileFormat file(&dataset);  // a deep copy: the caller keeps its data set
    saveDicomFileAtomically(file, target.string());
    return target.string();
}

}  // namespace ei
