// A study or series query, the same for a PACS (C-FIND, QIDO-RS) and for the local study
// database, and its matches keyed by DICOM keyword.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ei {

// The keys a query matches on; empty means "any". Dates are YYYYMMDD or a range
// YYYYMMDD-YYYYMMDD; names may use DICOM wildcards (* and ?).
struct DicomQuery {
    enum class Level { Study, Series };
    Level level = Level::Study;
    std::string patientId, patientName, studyDate, modality, accession, studyUid;
    std::string description;  // the study's description (wildcards as names)
};

// One match: DICOM keyword (PatientName, StudyInstanceUID, ...) -> value as returned.
using DicomMatch = std::map<std::string, std::string>;

// What a query returns at each level: the attributes, as group/element and DICOM keyword.
struct QueryKey {
    unsigned short group, element;
    const char* keyword;
};
const std::vector<QueryKey>& queryKeys(DicomQuery::Level level);

// UsageError for a malformed date, a series query without its study, a study "UID" that
// is not one.
void checkQuery(const DicomQuery& query);

}  // namespace ei
