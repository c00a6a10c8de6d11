#include "core/pacs/OutgoingInstances.h"

#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

namespace ei {

std::vector<OutgoingInstance> readOutgoingInstances(const std::vector<std::string>& files)
{
    std::vector<OutgoingInstance> outgoing;
    for (const auto& path : files) {
        DcmFileFormat file;
        if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096).bad())
            throw BadInputError(path, "is not a readable DICOM file; nothing was sent");
        OFString sopClass, sopInstance;
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sopInstance);
        if (sopClass.empty())
            file.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
        if (sopInstance.empty())
            file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sopInstance);
        if (sopClass.empty() || sopInstance.empty())
            throw BadInputError(path, "has no SOP Class or SOP Instance UID; nothing was sent");
        outgoing.push_back({path, sopClass.c_str(), sopInstance.c_str(), file.getDataset()->getOriginalXfer()});
    }
    return outgoing;
}

}  // namespace ei
