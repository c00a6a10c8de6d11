// DIMSE as a service class user, through DCMTK dcmnet: C-ECHO, C-FIND (study and series
// level, Study Root), retrieval by C-GET or by C-MOVE into EIView's own receiver, and
// C-STORE. One association per operation. Every failure is a BadInputError naming the
// node and what went wrong in words (connection refused, association rejected and why,
// timeout, no common transfer syntax), never DCMTK's bare condition.
#pragma once

#include "core/pacs/PacsClient.h"


namespace ei {

class DimseClient : public PacsClient {
public:
    DimseClient(DicomNode node, NodeOptions options);

    void echo() const override;
    std::vector<DicomMatch> find(const DicomQuery& query) const override;
    TransferResult retrieve(const RetrieveRequest& request, const TransferProgressFn& progress = {}) const override;
    TransferResult store(const std::vector<std::string>& files, const TransferProgressFn& progress = {}) const override;

private:
    DicomNode node_;
    NodeOptions options_;
};

}  // namespace ei
