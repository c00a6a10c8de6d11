// Where an instance received over the network (C-GET, or C-STORE into EIView's receiver
// during a C-MOVE) lands: DIR/<Series Instance UID>/<SOP Instance UID>.dcm, written to a
// temporary file and renamed, so an interrupted transfer leaves whole files or none.
#pragma once

#include <string>

class DcmDataset;

namespace ei {

// Writes `dataset` (with a file meta header, in the transfer syntax it arrived in) under
// `dir` and returns the path. Throws BadInputError when the data set lacks a series or
// instance UID or carries one that is not a DICOM UID (a name a hostile node could use to
// write outside `dir`), or when the file cannot be written.
std::string writeReceivedInstance(DcmDataset& dataset, const std::string& dir);

// True for a DICOM UID: 1-64 characters, digits and dots, no empty component.
bool isDicomUid(const std::string& uid);

}  // namespace ei
