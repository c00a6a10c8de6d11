// The files a store sends, read before anything is sent (DIMSE and DICOMweb alike): each
// file's SOP class and instance (from the meta header, else the data set) and transfer
// syntax. Internal to core/pacs (DCMTK types).
#pragma once

#include <dcmtk/dcmdata/dcxfer.h>

#include <string>
#include <vector>

namespace ei {

struct OutgoingInstance {
    std::string path, sopClass, sopInstance;
    E_TransferSyntax xfer = EXS_Unknown;
};

// BadInputError naming the first file that is not a readable DICOM file or lacks its SOP
// Class or SOP Instance UID ("nothing was sent").
std::vector<OutgoingInstance> readOutgoingInstances(const std::vector<std::string>& files);

}  // namespace ei
