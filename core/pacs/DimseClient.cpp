#include "core/pacs/DimseClient.h"

#include "core/io/DicomLoaderCommon.h"
#include "core/pacs/DimseAssociation.h"
#include "core/pacs/OutgoingInstances.h"
#include "core/pacs/ReceivedInstance.h"
#include "core/pacs/StorageReceiver.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

namespace ei {

namespace {

DcmDataset retrieveKeys(const RetrieveRequest& request)
{
    DcmDataset keys;
    const bool series = !request.seriesUid.empty();
    keys.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, series ? "SERIES" : "STUDY");
    keys.putAndInsertOFStringArray(DCM_StudyInstanceUID, request.studyUid.c_str());
    if (series)
        keys.putAndInsertOFStringArray(DCM_SeriesInstanceUID, request.seriesUid.c_str());
    return keys;
}

void checkRetrieve(const RetrieveRequest& request)
{
    if (!isDicomUid(request.studyUid))
        throw UsageError("'" + request.studyUid + "' is not a DICOM study UID");
    if (!request.seriesUid.empty() && !isDicomUid(request.seriesUid))
        throw UsageError("'" + request.seriesUid + "' is not a DICOM series UID");
    if (request.outDir.empty())
        throw UsageError("retrieve needs an output folder");
    if (request.method == RetrieveRequest::Method::Move && (request.receiverPort < 1 || request.receiverPort > 65535))
        throw UsageError("the receiver port must be from 1 to 65535");
}

void addCounts(TransferResult& result, const RetrieveResponse& response)
{
    result.counts.completed = response.m_numberOfCompletedSubops;
    result.counts.failed = response.m_numberOfFailedSubops;
    result.counts.warnings = response.m_numberOfWarningSubops;
    result.counts.remaining = response.m_numberOfRemainingSubops;
}

}  // namespace

DimseClient::DimseClient(DicomNode node, NodeOptions options) : node_(std::move(node)), options_(std::move(options))
{
    if (node_.isDicomWeb())
        throw UsageError("node " + node_.toString() + " is a DICOMweb URL; this operation needs AET@HOST:PORT");
    checkAeTitle(options_.callingAe, "the calling AE title");
    ensureDcmtkReady();
}

void DimseClient::echo() const
{
    DimseAssociation association(node_, options_);
    association.propose(UID_VerificationSOPClass);
    association.open();
    association.check(association.scu().sendECHORequest(association.context(UID_VerificationSOPClass)), "C-ECHO");
}

std::vector<DicomMatch> DimseClient::find(const DicomQuery& query) const
{
    checkQuery(query);
    DcmDataset keys;
    keys.putAndInsertOFStringArray(DCM_QueryRetrieveLevel, query.level == DicomQuery::Level::Study ? "STUDY" : "SERIES");
    for (const QueryKey& key : queryKeys(query.level))
        keys.insertEmptyElement(DcmTagKey(key.group, key.element));
    const auto set = [&](const DcmTagKey& tag, const std::string& value) {
        if (!value.empty())
            keys.putAndInsertOFStringArray(tag, value.c_str());
    };
    set(DCM_StudyInstanceUID, query.studyUid);
    set(DCM_AccessionNumber, query.accession);
    if (query.level == DicomQuery::Level::Study) {
        set(DCM_PatientID, query.patientId);
        set(DCM_PatientName, query.patientName);
        set(DCM_StudyDate, query.studyDate);
        set(DCM_ModalitiesInStudy, query.modality);
        set(DCM_StudyDescription, query.description);
    } else {
        set(DCM_Modality, query.modality);
    }

    DimseAssociation association(node_, options_);
    association.propose(UID_FINDStudyRootQueryRetrieveInformationModel);
    association.open();
    OFList<QRResponse*> responses;
    const OFCondition sent =
        association.scu().sendFINDRequest(association.context(UID_FINDStudyRootQueryRetrieveInformationModel), &keys, &responses);
    std::vector<DicomMatch> matches;
    Uint16 finalStatus = 0;
    for (QRResponse* response : responses) {
        if (response->m_dataset && DICOM_PENDING_STATUS(response->m_status)) {
            DicomMatch match;
            for (const QueryKey& key : queryKeys(query.level)) {
                OFString value;
                if (response->m_dataset->findAndGetOFStringArray(DcmTagKey(key.group, key.element), value).good() &&
                    !value.empty())
                    match[key.keyword] = value.c_str();
            }
            matches.push_back(std::move(match));
        } else {
            finalStatus = response->m_status;
        }
        delete response;
    }
    association.check(sent, "C-FIND");
    if (finalStatus != STATUS_Success)
        association.fail("C-FIND ended with status " + DimseAssociation::statusText(finalStatus, DimseAssociation::Service::Find));
    return matches;
}

TransferResult DimseClient::retrieve(const RetrieveRequest& request, const TransferProgressFn& progress) const
{
    checkRetrieve(request);
    std::error_code ec;
    std::filesystem::create_directories(request.outDir, ec);
    if (ec)
        throw BadInputError(request.outDir, "cannot create the output folder: " + ec.message());
    DcmDataset keys = retrieveKeys(request);
    TransferResult result;
    DimseAssociation association(node_, options_);
    const bool get = request.method == RetrieveRequest::Method::Get;
    const char* model = get ? UID_GETStudyRootQueryRetrieveInformationModel : UID_MOVEStudyRootQueryRetrieveInformationModel;
    association.propose(model);

    std::unique_ptr<StorageReceiver> receiver;
    const auto onInstance = [&](const std::string& file, const std::string& failure) {
        if (!file.empty())
            result.files.push_back(file);
        if (!failure.empty())
            result.failures.push_back(failure);
        TransferCounts counts = result.counts;
        counts.completed = static_cast<int>(result.files.size());
        counts.failed = std::max(counts.failed, static_cast<int>(result.failures.size()));
        if (progress && !progress(counts))
            result.cancelled = true;
        return !result.cancelled;
    };
    if (get) {
        association.acceptStorage(request.outDir, onInstance);
    } else if (!request.toRunningReceiver) {
        receiver = std::make_unique<StorageReceiver>(options_.callingAe, request.receiverPort, request.outDir, onInstance);
        receiver->start();
    }
    association.open();
    OFList<RetrieveResponse*> responses;
    const T_ASC_PresentationContextID context = association.context(model);
    const OFCondition sent = get ? association.scu().sendCGETRequest(context, &keys, &responses)
                                 : association.scu().sendMOVERequest(context, options_.callingAe.c_str(), &keys, &responses);
    if (receiver)
        receiver->stop();
    Uint16 finalStatus = STATUS_Success;
    for (RetrieveResponse* response : responses) {
        addCounts(result, *response);
        finalStatus = response->m_status;
        delete response;
    }
    if (result.cancelled) {
        association.abort();
        return result;
    }
    // A C-MOVE that fails is most often a destination the node does not know: say which.
    const std::string operation = get ? std::string("C-GET")
                                      : "C-MOVE to '" + options_.callingAe + "' (EIView's receiver on port " +
                                            std::to_string(request.receiverPort) +
                                            "; the node must know this AE title with this machine's address and port)";
    association.check(sent, operation);
    if (receiver && !receiver->error().empty())
        association.fail(receiver->error());
    if (finalStatus != STATUS_Success && !DICOM_WARNING_STATUS(finalStatus) && result.files.empty() &&
        result.counts.completed == 0)
        association.fail(operation + " ended with status " + DimseAssociation::statusText(finalStatus, DimseAssociation::Service::Move));
    if (request.toRunningReceiver)
        return result;  // the node's counts are all there is
    result.counts.completed = static_cast<int>(result.files.size());
    result.counts.failed = std::max(result.counts.failed, static_cast<int>(result.failures.size()));
    return result;
}

TransferResult DimseClient::store(const std::vector<std::string>& files, const TransferProgressFn& progress) const
{
    // Every file is read first: one that is not DICOM is refused before anything is sent.
    const std::vector<OutgoingInstance> outgoing = readOutgoingInstances(files);
    TransferResult result;
    // An association carries at most 128 presentation contexts: send in groups.
    std::size_t next = 0;
    while (next < outgoing.size() && !result.cancelled) {
        DimseAssociation association(node_, options_);
        std::set<std::pair<std::string, E_TransferSyntax>> proposed;
        std::size_t end = next;
        for (; end < outgoing.size(); ++end) {
            const auto key = std::make_pair(outgoing[end].sopClass, outgoing[end].xfer);
            if (!proposed.count(key)) {
                if (proposed.size() >= 120)
                    break;
                proposed.insert(key);
                association.proposeStorage(key.first, key.second);
            }
        }
        association.open();
        for (; next < end && !result.cancelled; ++next) {
            const OutgoingInstance& o = outgoing[next];
            const T_ASC_PresentationContextID context = association.storageContext(o.sopClass, o.xfer);
            Uint16 status = 0;
            OFCondition sent = EC_IllegalCall;
            if (context != 0)
                sent = association.scu().sendSTORERequest(context, o.path.c_str(), nullptr, status);
            if (context == 0)
                result.failures.push_back(o.path + ": the node accepted neither its SOP class nor its transfer syntax");
            else if (sent.bad())
                association.check(sent, "C-STORE of " + o.path);
            else if (status == STATUS_Success || DICOM_WARNING_STATUS(status))
                result.files.push_back(o.path), result.counts.warnings += DICOM_WARNING_STATUS(status) ? 1 : 0;
            else
                result.failures.push_back(o.path + ": refused with status " + DimseAssociation::statusText(status, DimseAssociation::Service::Store));
            result.counts.completed = static_cast<int>(result.files.size());
            result.counts.failed = static_cast<int>(result.failures.size());
            result.counts.remaining = static_cast<int>(outgoing.size() - next - 1);
            if (progress && !progress(result.counts))
                result.cancelled = true;
        }
        if (result.cancelled)
            association.abort();
    }
    return result;
}

}  // namespace ei
