// One DIMSE association with a node, as DimseClient uses it: proposes presentation
// contexts, negotiates (over TLS when the options ask for it), hands out the DcmSCU for
// the request, and turns every DCMTK condition into a BadInputError that names the node
// and says in words what went wrong. Released (or aborted) when it goes out of scope.
#pragma once

#include "core/pacs/DicomNode.h"

#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/scu.h>

#include <functional>
#include <memory>
#include <string>

namespace ei {

// Called for each instance received on this association (C-GET): the file written, or
// the reason it was not; returns false to cancel.
using InstanceHandler = std::function<bool(const std::string& file, const std::string& failure)>;

class DimseAssociation {
public:
    DimseAssociation(const DicomNode& node, const NodeOptions& options);
    ~DimseAssociation();
    DimseAssociation(const DimseAssociation&) = delete;
    DimseAssociation& operator=(const DimseAssociation&) = delete;

    // Before open(): a context for a query / retrieve / verification SOP class ...
    void propose(const char* abstractSyntax);
    // ... for sending one storage SOP class in `xfer` (plus Explicit VR Little Endian,
    // which DCMTK decompresses to, when `xfer` is compressed) ...
    void proposeStorage(const std::string& sopClass, E_TransferSyntax xfer);
    // ... and, for C-GET, the storage contexts in the SCP role: received instances are
    // written under `outDir` (ReceivedInstance.h) and reported to `handler`.
    void acceptStorage(const std::string& outDir, InstanceHandler handler);

    void open();
    DcmSCU& scu();
    // The accepted context for `abstractSyntax`; throws when the node refused it.
    T_ASC_PresentationContextID context(const char* abstractSyntax);
    // The context to send a `sopClass` instance held in `xfer`; 0 when there is none.
    T_ASC_PresentationContextID storageContext(const std::string& sopClass, E_TransferSyntax xfer);

    // Throws BadInputError for a bad condition of `operation` (and aborts).
    void check(const OFCondition& condition, const std::string& operation);
    [[noreturn]] void fail(const std::string& problem);
    void abort();

    enum class Service { Find, Move, Store };  // C-GET statuses read as C-MOVE's
    // "0xa700 (Refused: OutOfResources)": a DIMSE status in words.
    static std::string statusText(Uint16 status, Service service);

private:
    std::string describe(const OFCondition& condition) const;

    DicomNode node_;
    NodeOptions options_;
    std::unique_ptr<DcmSCU> scu_;
    bool open_ = false;
};

}  // namespace ei
