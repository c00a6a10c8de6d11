// What EIView does with a PACS, the same over DIMSE (DimseClient) and DICOMweb
// (DicomWebClient): verify, search, retrieve into a folder, send files. connectTo picks the
// protocol from the node (AET@HOST:PORT or an http(s) URL). Every failure is a
// BadInputError naming the node and saying in words what went wrong.
#pragma once

#include "core/pacs/DicomNode.h"
#include "core/pacs/DicomQuery.h"

#include <functional>
#include <memory>
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
    Method method = Method::Get;  // DIMSE only; DICOMweb retrieves by WADO-RS
    int receiverPort = 11112;  // C-MOVE: where EIView's receiver listens (the node must know it)
    // C-MOVE to a receiver that already runs (the window's): none is started, the
    // instances land where that receiver writes them, and `files` stays empty.
    bool toRunningReceiver = false;
};

class PacsClient {
public:
    virtual ~PacsClient() = default;
    virtual void echo() const = 0;
    virtual std::vector<DicomMatch> find(const DicomQuery& query) const = 0;
    // Into request.outDir/<Series Instance UID>/<SOP Instance UID>.dcm, whole files only.
    virtual TransferResult retrieve(const RetrieveRequest& request, const TransferProgressFn& progress = {}) const = 0;
    // Refuses (before connecting) any file that is not a readable DICOM file.
    virtual TransferResult store(const std::vector<std::string>& files, const TransferProgressFn& progress = {}) const = 0;
};

std::unique_ptr<PacsClient> connectTo(const DicomNode& node, const NodeOptions& options);

}  // namespace ei
