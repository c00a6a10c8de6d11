#include "core/pacs/DicomQuery.h"

#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <algorithm>

namespace ei {

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
