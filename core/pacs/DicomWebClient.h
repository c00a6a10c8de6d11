// DICOMweb through Qt Network: QIDO-RS search, WADO-RS retrieve (multipart/related), and
// STOW-RS store, against a base URL (".../dicom-web") with optional HTTP basic or bearer
// authentication. Requests are synchronous for the caller (a local event loop; the
// caller's thread needs none of its own, and a QCoreApplication is made when the process
// has none). A retrieve writes nothing until the whole answer arrived and parsed.
#pragma once

#include "core/pacs/PacsClient.h"

namespace ei {

class DicomWebClient : public PacsClient {
public:
    DicomWebClient(DicomNode node, NodeOptions options);

    void echo() const override;  // a QIDO-RS search for one study
    std::vector<DicomMatch> find(const DicomQuery& query) const override;
    TransferResult retrieve(const RetrieveRequest& request, const TransferProgressFn& progress = {}) const override;
    TransferResult store(const std::vector<std::string>& files, const TransferProgressFn& progress = {}) const override;

private:
    DicomNode node_;
    NodeOptions options_;
};

// Parts of a multipart/related body (RFC 2387) with the boundary of `contentType`;
// BadInputError naming `what` when it is not well formed.
std::vector<std::string> splitMultipart(const std::string& body, const std::string& contentType, const std::string& what);

// QIDO-RS's DICOM JSON (PS3.18 F.2) as matches keyed by keyword; BadInputError naming
// `what` when it is not a list of objects.
std::vector<DicomMatch> parseDicomJsonMatches(const std::string& json, DicomQuery::Level level, const std::string& what);

}  // namespace ei
