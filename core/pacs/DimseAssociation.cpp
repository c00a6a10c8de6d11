#include "core/pacs/DimseAssociation.h"

#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmtls/tlsscu.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

namespace ei {

namespace {

const OFList<OFString>& uncompressedSyntaxes()
{
    static const OFList<OFString> syntaxes = [] {
        OFList<OFString> list;
        list.push_back(UID_LittleEndianExplicitTransferSyntax);
        list.push_back(UID_LittleEndianImplicitTransferSyntax);
        return list;
    }();
    return syntaxes;
}

// The SCU with EIView's handling of instances received during a C-GET. Base is DcmSCU or
// DcmTLSSCU (TLS).
template <class Base>
class ReceivingScu : public Base {
public:
    std::string outDir;
    InstanceHandler handler;

protected:
    OFCondition handleSTORERequest(const T_ASC_PresentationContextID, DcmDataset* incoming, OFBool& continueSession,
                                   Uint16& status) override
    {
        std::unique_ptr<DcmDataset> dataset(incoming);
        std::string file, failure;
        try {
            if (!dataset)
                throw BadInputError(outDir, "the node sent a C-STORE without a data set");
            file = writeReceivedInstance(*dataset, outDir);
            status = STATUS_Success;
        } catch (const std::exception& e) {
            failure = e.what();
            status = STATUS_STORE_Refused_OutOfResources;
        }
        continueSession = !handler || handler(file, failure) ? OFTrue : OFFalse;
        return EC_Normal;
    }
};

}  // namespace

DimseAssociation::DimseAssociation(const DicomNode& node, const NodeOptions& options) : node_(node), options_(options)
{
    if (options_.useTls()) {
        auto tls = std::make_unique<ReceivingScu<DcmTLSSCU>>();
        for (const std::string& file : {options_.tlsCert, options_.tlsKey, options_.tlsCa}) {
            if (!file.empty() && !std::filesystem::is_regular_file(file))
                throw BadInputError(file, "no such certificate or key file");
        }
        if (options_.tlsCert.empty() != options_.tlsKey.empty())
            throw UsageError("--tls-cert and --tls-key go together");
        if (!options_.tlsCa.empty()) {
            tls->addTrustedCertFile(options_.tlsCa.c_str());
            tls->setPeerCertVerification(DCV_requireCertificate);
        } else {
            tls->setPeerCertVerification(DCV_ignoreCertificate);
        }
        if (!options_.tlsCert.empty())
            tls->enableAuthentication(options_.tlsKey.c_str(), options_.tlsCert.c_str());
        else
            tls->disableAuthentication();
        scu_ = std::move(tls);
    } else {
        scu_ = std::make_unique<ReceivingScu<DcmSCU>>();
    }
    scu_->setAETitle(options_.callingAe.c_str());
    scu_->setPeerAETitle(node_.aeTitle.c_str());
    scu_->setPeerHostName(node_.host.c_str());
    scu_->setPeerPort(static_cast<Uint16>(node_.port));
    const auto timeout = static_cast<Uint32>(options_.timeoutSeconds);
    scu_->setConnectionTimeout(static_cast<Sint32>(timeout));
    scu_->setACSETimeout(timeout);
    scu_->setDIMSETimeout(timeout);
    scu_->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu_->setVerbosePCMode(OFFalse);
}

DimseAssociation::~DimseAssociation()
{
    if (open_ && scu_->isConnected())
        scu_->releaseAssociation();
}

void DimseAssociation::propose(const char* abstractSyntax)
{
    scu_->addPresentationContext(abstractSyntax, uncompressedSyntaxes());
}

void DimseAssociation::proposeStorage(const std::string& sopClass, E_TransferSyntax xfer)
{
    OFList<OFString> syntaxes;
    syntaxes.push_back(DcmXfer(xfer).getXferID());
    scu_->addPresentationContext(sopClass.c_str(), syntaxes);
    if (DcmXfer(xfer).isEncapsulated() || xfer == EXS_DeflatedLittleEndianExplicit) {
        OFList<OFString> plain;
        plain.push_back(UID_LittleEndianExplicitTransferSyntax);
        scu_->addPresentationContext(sopClass.c_str(), plain);
    }
}

void DimseAssociation::acceptStorage(const std::string& outDir, InstanceHandler handler)
{
    // The storage classes a modality commonly produces (DCMTK's getscu list), each with the
    // uncompressed and the common compressed syntaxes, in the SCP role. With the retrieve
    // context this stays within the 128 contexts of an association.
    OFList<OFString> syntaxes = uncompressedSyntaxes();
    for (const char* uid : {UID_JPEGProcess1TransferSyntax, UID_JPEGProcess14SV1TransferSyntax, UID_JPEGLSLosslessTransferSyntax,
                            UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax})
        syntaxes.push_back(uid);
    for (int i = 0; i < numberOfDcmLongSCUStorageSOPClassUIDs && i < 120; ++i)
        scu_->addPresentationContext(dcmLongSCUStorageSOPClassUIDs[i], syntaxes, ASC_SC_ROLE_SCP);
    if (auto* plain = dynamic_cast<ReceivingScu<DcmSCU>*>(scu_.get())) {
        plain->outDir = outDir;
        plain->handler = std::move(handler);
    } else if (auto* tls = dynamic_cast<ReceivingScu<DcmTLSSCU>*>(scu_.get())) {
        tls->outDir = outDir;
        tls->handler = std::move(handler);
    }
}

void DimseAssociation::open()
{
    OFCondition condition = scu_->initNetwork();
    if (condition.bad())
        fail("cannot set up the network: " + describe(condition));
    condition = scu_->negotiateAssociation();
    if (condition.bad()) {
        // A node that hangs up during the negotiation most often wanted TLS, or our certificate.
        // Depending on timing that reads as an abort or as a reset TCP connection.
        const std::string text = condition.text();
        const bool hungUp = condition == DUL_PEERABORTEDASSOCIATION || condition == DUL_PEERREQUESTEDRELEASE ||
                            text.find("reset by peer") != std::string::npos || text.find("Broken pipe") != std::string::npos;
        if (hungUp)
            fail(options_.useTls() ? "the node ended the association during the TLS negotiation (does it want EIView's own "
                                     "certificate, --tls-cert and --tls-key, and does it trust it?)"
                                   : "the node ended the association at once (does it want DICOM over TLS? give --tls-ca)");
        fail(describe(condition));
    }
    open_ = true;
}

DcmSCU& DimseAssociation::scu()
{
    return *scu_;
}

T_ASC_PresentationContextID DimseAssociation::context(const char* abstractSyntax)
{
    const T_ASC_PresentationContextID id = scu_->findAnyPresentationContextID(abstractSyntax, "");
    if (id == 0) {
        const char* name = dcmFindNameOfUID(abstractSyntax, abstractSyntax);
        fail(std::string("the node does not offer ") + name + " (it accepted the association but not this service)");
    }
    return id;
}

T_ASC_PresentationContextID DimseAssociation::storageContext(const std::string& sopClass, E_TransferSyntax xfer)
{
    const T_ASC_PresentationContextID exact = scu_->findPresentationContextID(sopClass.c_str(), DcmXfer(xfer).getXferID());
    if (exact != 0)
        return exact;
    return scu_->findPresentationContextID(sopClass.c_str(), UID_LittleEndianExplicitTransferSyntax);
}

void DimseAssociation::check(const OFCondition& condition, const std::string& operation)
{
    if (condition.bad())
        fail(operation + " failed: " + describe(condition));
}

void DimseAssociation::fail(const std::string& problem)
{
    abort();
    throw BadInputError(node_.toString(), problem);
}

void DimseAssociation::abort()
{
    if (open_ && scu_->isConnected())
        scu_->abortAssociation();
    open_ = false;
}

std::string DimseAssociation::describe(const OFCondition& condition) const
{
    const std::string text = condition.text();
    const std::string seconds = std::to_string(options_.timeoutSeconds);
    std::string lower = text;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("certificate verify failed") != std::string::npos)
        return "the node's TLS certificate does not verify against " +
               (options_.tlsCa.empty() ? std::string("the trusted certificates") : options_.tlsCa);
    if (condition == DUL_ASSOCIATIONREJECTED)
        return "the node rejected the association (is the called AE title '" + node_.aeTitle +
               "' right, and does the node know the calling AE title '" + options_.callingAe + "'?)";
    if (text.find("Connection refused") != std::string::npos)
        return "connection refused at " + node_.host + ":" + std::to_string(node_.port) +
               " (is the node running, and is the port right?)";
    if (lower.find("timed out") != std::string::npos || lower.find("timeout") != std::string::npos ||
        condition == DIMSE_NODATAAVAILABLE)
        return "no answer within " + seconds + " s";
    if (condition == DUL_PEERABORTEDASSOCIATION || condition == DUL_PEERREQUESTEDRELEASE)
        return "the node ended the association";
    if (text.find("No Acceptable Presentation Contexts") != std::string::npos || condition == NET_EC_NoAcceptablePresentationContexts)
        return "the node accepted none of the proposed services and transfer syntaxes";
    if (text.find("Host name") != std::string::npos || text.find("unknown host") != std::string::npos)
        return "cannot resolve the host name '" + node_.host + "'";
    return text;
}

std::string DimseAssociation::statusText(Uint16 status, Service service)
{
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%04x", status);
    const char* meaning = service == Service::Find   ? DU_cfindStatusString(status)
                          : service == Service::Move ? DU_cmoveStatusString(status)
                                                     : DU_cstoreStatusString(status);
    return std::string(hex) + " (" + meaning + ")";
}

}  // namespace ei
