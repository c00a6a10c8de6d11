#include "core/pacs/StorageReceiver.h"

#include "core/io/DicomLoaderCommon.h"
#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scp.h>

namespace ei {

class StorageReceiver::Scp : public DcmSCP {
public:
    explicit Scp(StorageReceiver& owner) : owner_(owner) {}

protected:
    OFCondition handleIncomingCommand(T_DIMSE_Message* message, const DcmPresentationContextInfo& info) override
    {
        if (message->CommandField != DIMSE_C_STORE_RQ)
            return DcmSCP::handleIncomingCommand(message, info);
        T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
        DcmDataset* received = nullptr;
        const OFCondition condition = receiveSTORERequest(request, info.presentationContextID, received);
        std::unique_ptr<DcmDataset> dataset(received);
        if (condition.bad())
            return condition;
        std::string file, failure;
        Uint16 status = STATUS_Success;
        try {
            file = writeReceivedInstance(*dataset, owner_.outDir_);
        } catch (const std::exception& e) {
            failure = e.what();
            status = STATUS_STORE_Refused_OutOfResources;
            std::lock_guard<std::mutex> lock(owner_.mutex_);
            if (owner_.error_.empty())
                owner_.error_ = failure;
        }
        if (owner_.handler_ && !owner_.handler_(file, failure))
            owner_.stopping_ = true;
        return sendSTOREResponse(info.presentationContextID, request, status);
    }
    OFBool stopAfterConnectionTimeout() override { return owner_.stopping_.load(); }
    OFBool stopAfterCurrentAssociation() override { return owner_.stopping_.load(); }

private:
    StorageReceiver& owner_;
};

StorageReceiver::StorageReceiver(std::string aeTitle, int port, std::string outDir, InstanceHandler handler)
    : aeTitle_(std::move(aeTitle)), port_(port), outDir_(std::move(outDir)), handler_(std::move(handler))
{
    ensureDcmtkReady();
}

StorageReceiver::~StorageReceiver()
{
    stop();
}

void StorageReceiver::start()
{
    scp_ = std::make_unique<Scp>(*this);
    scp_->setAETitle(aeTitle_.c_str());
    scp_->setPort(static_cast<Uint16>(port_));
    scp_->setConnectionBlockingMode(DUL_NOBLOCK);
    scp_->setConnectionTimeout(1);  // how often the thread looks at stop()
    scp_->setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scp_->setDIMSETimeout(60);
    scp_->setACSETimeout(30);
    scp_->setHostLookupEnabled(OFFalse);
    scp_->setVerbosePCMode(OFFalse);
    OFList<OFString> syntaxes;
    for (const char* uid : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                            UID_JPEGProcess1TransferSyntax, UID_JPEGProcess14SV1TransferSyntax, UID_JPEGLSLosslessTransferSyntax,
                            UID_RLELosslessTransferSyntax, UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
                            UID_DeflatedExplicitVRLittleEndianTransferSyntax, UID_BigEndianExplicitTransferSyntax})
        syntaxes.push_back(uid);
    scp_->setEnableVerification();
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
        scp_->addPresentationContext(dcmAllStorageSOPClassUIDs[i], syntaxes);
    const OFCondition opened = scp_->openListenPort();
    if (opened.bad())
        throw BadInputError("port " + std::to_string(port_),
                            std::string("EIView's DICOM receiver cannot listen there (in use, or below 1024?): ") + opened.text());
    stopping_ = false;
    thread_ = std::thread([this] { scp_->acceptAssociations(); });
}

void StorageReceiver::stop()
{
    stopping_ = true;
    if (thread_.joinable())
        thread_.join();
    scp_.reset();
}

std::string StorageReceiver::error() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return error_;
}

}  // namespace ei
