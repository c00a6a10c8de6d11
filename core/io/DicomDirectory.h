// Finding DICOM series: in a folder (every file with the DICOM preamble, grouped by
// SeriesInstanceUID) or in a DICOMDIR (its SERIES records and the files they list).
// What `eiview-cli inspect` lists under "series" and what loadImage() stacks.
#pragma once

#include "models/JobControl.h"

#include <string>
#include <vector>

namespace ei {

struct DicomSeriesEntry {
    std::string seriesUid;
    std::string modality;
    std::string description;
    std::string seriesNumber;
    std::vector<std::string> files;  // absolute or relative to the working folder, as found
};

// Every DICOM image file under `dir` (recursively), grouped by series and ordered by
// series number (then UID); files inside a series are sorted by name (the loader sorts
// slices by position). Non-DICOM files are skipped. Throws BadInputError when `dir` is
// unreadable. `control` (optional): progress and a cancel checkpoint per file.
std::vector<DicomSeriesEntry> scanDicomFolder(const std::string& dir, const JobControl* control = nullptr);

// The files under `dir` (recursively, in path order) that start like DICOM Part 10 files,
// for import and store. DICOMDIRs and files that are not DICOM are counted in `skipped`;
// hidden (dot) files, among them parts a receiver is still writing, are passed over.
std::vector<std::string> listDicomFiles(const std::string& dir, int& skipped);

// True when `path` is a DICOMDIR (by content, not by name).
bool isDicomDirFile(const std::string& path);

// The series listed in a DICOMDIR, file paths resolved against its folder. Records are
// read in stored order (PATIENT > STUDY > SERIES > IMAGE, as DCMTK and other writers store
// them); a referenced file that is missing is kept here and reported when loaded.
std::vector<DicomSeriesEntry> readDicomDir(const std::string& path);

}  // namespace ei
