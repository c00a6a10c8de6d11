// EIView's local study database: DICOM imported from files, folders or the network,
// copied into a store EIView manages (DIR/store/<study>/<series>/<SOP instance>.dcm) and
// indexed by study, series and instance in SQLite (Qt SQL, DIR/index.sqlite).
//
// Imports are idempotent (an SOP Instance UID already held is not copied again), all or
// nothing (one transaction per import: a crash or an error leaves no half-indexed study,
// and files copied for a failed import are removed), and never change the source files.
// Queries take the same DicomQuery as a PACS and answer with the same keywords.
#pragma once

#include "core/pacs/DicomQuery.h"

#include <functional>
#include <string>
#include <vector>

namespace ei {

struct ImportResult {
    int added = 0;    // instances copied and indexed
    int already = 0;  // instances the database held before
    int skipped = 0;  // files in folders that are not DICOM instances with valid UIDs (and DICOMDIRs)
    std::vector<std::string> studyUids;  // studies touched, in first-seen order
};

class StudyDatabase {
public:
    // Opens (creating when absent) the database in `dir`. BadInputError when the folder
    // cannot be made or the index is not an EIView study index.
    explicit StudyDatabase(const std::string& dir);
    ~StudyDatabase();
    StudyDatabase(const StudyDatabase&) = delete;
    StudyDatabase& operator=(const StudyDatabase&) = delete;

    // Imports files and folders (walked; DICOMDIRs and files that are not DICOM in them are
    // skipped; a DICOMDIR named itself stands for its folder). A named file that is not DICOM, or an instance without its UIDs, refuses
    // the whole import (BadInputError naming it) before anything is copied.
    // progress(done, total) after each instance; returning false cancels (nothing kept).
    ImportResult import(const std::vector<std::string>& paths, const std::function<bool(int, int)>& progress = {});

    std::vector<DicomMatch> find(const DicomQuery& query) const;
    // The stored files of a study (or one series of it), absolute paths in instance order.
    std::vector<std::string> files(const std::string& studyUid, const std::string& seriesUid = "") const;
    // Removes a study from the index and its files from the store.
    void removeStudy(const std::string& studyUid);

    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
    std::string connection_;  // Qt SQL connection name, unique per object
};

}  // namespace ei
