#include "core/pacs/DicomQuery.h"

#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <algorithm>

namespace ei {

const std::vector<QueryKey>& queryKeys(DicomQuery::Level level)
{
    static const std::vector<QueryKey> study = {
        {0x0020, 0x000D, "StudyInstanceUID"}, {0x0010, 0x0010, "PatientName"}, {0x0010, 0x0020, "PatientID"},
        {0x0010, 0x0030, "PatientBirthDate"}, {0x0008, 0x0020, "StudyDate"}, {0x0008, 0x0030, "StudyTime"},
        {0x0008, 0x0050, "AccessionNumber"}, {0x0008, 0x1030, "StudyDescription"}, {0x0008, 0x0061, "ModalitiesInStudy"},
        {0x0020, 0x1206, "NumberOfStudyRelatedSeries"}, {0x0020, 0x1208, "NumberOfStudyRelatedInstances"}};
    static const std::vector<QueryKey> series = {
        {0x0020, 0x000D, "StudyInstanceUID"}, {0x0020, 0x000E, "SeriesInstanceUID"}, {0x0008, 0x0060, "Modality"},
        {0x0020, 0x0011, "SeriesNumber"}, {0x0008, 0x103E, "SeriesDescription"}, {0x0018, 0x0015, "BodyPartExamined"},
        {0x0020, 0x1209, "NumberOfSeriesRelatedInstances"}};
    return level == DicomQuery::Level::Study ? study : series;
}

void checkQuery(const DicomQuery& query)
{
    const auto& d = query.studyDate;
    const bool dateOk = d.empty() || ((d.size() == 8 || (d.size() == 17 && d[8] == '-')) &&
                                      std::all_of(d.begin(), d.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; }));
    if (!dateOk)
        throw UsageError("study date '" + d + "' must be YYYYMMDD or YYYYMMDD-YYYYMMDD");
    if (query.level == DicomQuery::Level::Series && query.studyUid.empty())
        throw UsageError("a series-level query needs the study (--study UID)");
    if (!query.studyUid.empty() && !isDicomUid(query.studyUid))
        throw UsageError("'" + query.studyUid + "' is not a DICOM UID");
}

}  // namespace ei
