// Where a study's inputs came from in DICOM terms, for results that must point back at
// them (the SR's references and evidence, the maps' source images): per model slot, the
// instances (file, SOP class and instance, series, study) of the file or series folder
// the slot was loaded from.
#pragma once

#include <string>
#include <vector>

namespace ei {

struct DicomInstanceRef {
    std::string file, sopClassUid, sopInstanceUid, seriesUid, studyUid;
};

struct DicomSource {
    std::string slot;   // the model's modality name
    std::string input;  // the file or series folder as given
    std::vector<DicomInstanceRef> instances;  // in file-name order; never empty
};

// Reads the provenance of `input`: a DICOM file, or a folder holding one series (the
// files of `seriesUid` when given, else of the first series). Throws BadInputError naming
// `input` when it is not DICOM (a PNG, a NIfTI, a DICOMDIR) or lacks its UIDs.
DicomSource readDicomSource(const std::string& slot, const std::string& input, const std::string& seriesUid = "");

// The inputs of one study must belong to one patient: BadInputError naming both inputs
// when their Patient IDs differ (the IDs themselves are not put in the message).
void checkOnePatient(const std::vector<DicomSource>& sources);

}  // namespace ei
