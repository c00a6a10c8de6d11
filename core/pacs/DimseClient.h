// DIMSE as a service class user, through DCMTK dcmnet: C-ECHO, C-FIND (study and series
// level, Study Root), retrieval by C-GET or by C-MOVE into EIView's own receiver, and
// C-STORE. One association per operation. Every failure is a BadInputError naming the
// node and what went wrong in words (connection refused, association rejected and why,
// timeout, no common transfer syntax), never DCMTK's bare condition.
#pragma once

#include "core/pacs/DicomNode.h"
#include "core/pacs/DicomQuery.h"

#include <functional>
#include <string>
#include <vector>

namespace ei {

struct TransferCounts {
    int completed = 0, failed = 0, warnings = 0, remaining = -1;  // -1: the node did not say
};
// Called after each instance moved; return false to cancel the transfer.
using TransferProgressFn = std::function<bool(const TransferCounts&)>;

struct TransferResult {
    TransferCounts counts;
    std::vector<std::string> files;  // written (retrieve) or sent (store)
    std::vector<std::string> failures;  // one line per instance or file that failed
    bool cancelled = false;
};

struct RetrieveRequest {
    enum class Method { Get, Move };
    std::string studyUid, seriesUid;  // series empty: the whole study
    std::string outDir;
    Method method = Method::Get;
    int receiverPort = 11112;  // C-MOVE: where EIView's receiver listens (the node must know it)
};

class DimseClient {
public:
    DimseClient(DicomNode node, DimseOptions options);

    void echo() const;
    std::vector<DicomMatch> find(const DicomQuery& query) const;
    TransferResult retrieve(const RetrieveRequest& request, const TransferProgressFn& progress = {}) const;
    // Sends DICOM files; refuses (before connecting) any that is not a readable DICOM file.
    TransferResult store(const std::vector<std::string>& files, const TransferProgressFn& progress = {}) const;

private:
    DicomNode node_;
    DimseOptions options_;
};

}  // namespace ei
