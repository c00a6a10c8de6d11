#include "core/pacs/DicomWebClient.h"

#include "core/io/DicomLoaderCommon.h"
#include "core/pacs/OutgoingInstances.h"
#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QUrlQuery>

#include <nlohmann/json.hpp>

#include <clocale>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace ei {

namespace fs = std::filesystem;

namespace {

// Qt Network needs a QCoreApplication; the CLI has none. Qt then takes the locale from
// the environment: numbers stay in the C locale, as everywhere else in EIView.
void ensureQtApplication()
{
    if (QCoreApplication::instance())
        return;
    static int argc = 1;
    static char name[] = "eiview";
    static char* argv[] = {name, nullptr};
    static QCoreApplication application(argc, argv);
    std::setlocale(LC_NUMERIC, "C");
}

struct HttpAnswer {
    int status = 0;
    QByteArray body, contentType;
};

class Http {
public:
    Http(const DicomNode& node, const NodeOptions& options) : node_(node), options_(options) {}

    HttpAnswer get(const QUrl& url, const QByteArray& accept) { return send("GET", url, accept, {}, {}); }
    HttpAnswer post(const QUrl& url, const QByteArray& accept, const QByteArray& contentType, const QByteArray& body)
    {
        return send("POST", url, accept, contentType, body);
    }

    [[noreturn]] void fail(const std::string& problem) const { throw BadInputError(node_.toString(), problem); }

private:
    HttpAnswer send(const QByteArray& verb, const QUrl& url, const QByteArray& accept, const QByteArray& contentType,
                    const QByteArray& body)
    {
        QNetworkRequest request(url);
        request.setRawHeader("Accept", accept);
        if (!contentType.isEmpty())
            request.setHeader(QNetworkRequest::ContentTypeHeader, contentType);
        if (!options_.httpUser.empty())
            request.setRawHeader("Authorization", "Basic " + QByteArray::fromStdString(options_.httpUser).toBase64());
        else if (!options_.bearerToken.empty())
            request.setRawHeader("Authorization", "Bearer " + QByteArray::fromStdString(options_.bearerToken));
        request.setTransferTimeout(options_.timeoutSeconds * 1000);
        request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::NoLessSafeRedirectPolicy);
        QNetworkReply* reply = verb == "GET" ? manager_.get(request) : manager_.post(request, body);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        if (!reply->isFinished())
            loop.exec();
        HttpAnswer answer;
        answer.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        answer.body = reply->readAll();
        answer.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        const QNetworkReply::NetworkError error = reply->error();
        const std::string errorText = reply->errorString().toStdString();
        reply->deleteLater();
        if (answer.status == 401 || answer.status == 403)
            fail("the node refused the login (HTTP " + std::to_string(answer.status) +
                 "): give --user USER:PASSWORD or --token TOKEN as the node expects");
        if (answer.status == 404)
            fail("HTTP 404 for " + url.path().toStdString() + ": is the base URL right (it usually ends in /dicom-web)?");
        if (error == QNetworkReply::ConnectionRefusedError)
            fail("connection refused at " + url.host().toStdString() + ":" + std::to_string(url.port()) +
                 " (is the node running, and is the port right?)");
        if (error == QNetworkReply::OperationCanceledError || error == QNetworkReply::TimeoutError)
            fail("no answer within " + std::to_string(options_.timeoutSeconds) + " s");
        if (error == QNetworkReply::RemoteHostClosedError)
            fail("the node closed the connection before its answer was complete");
        if (error == QNetworkReply::HostNotFoundError)
            fail("cannot resolve the host name '" + url.host().toStdString() + "'");
        if (error != QNetworkReply::NoError && answer.status < 400)
            fail("HTTP request failed: " + errorText);
        return answer;
    }

    const DicomNode& node_;
    const NodeOptions& options_;
    bool applicationReady_ = (ensureQtApplication(), true);  // before the manager is made
    QNetworkAccessManager manager_;
};

QUrl endpoint(const DicomNode& node, const std::string& path)
{
    return QUrl(QString::fromStdString(node.url + path));
}

std::string boundaryOf(const std::string& contentType)
{
    const auto at = contentType.find("boundary=");
    if (at == std::string::npos)
        return {};
    std::string boundary = contentType.substr(at + 9);
    if (!boundary.empty() && boundary.front() == '"') {
        const auto close = boundary.find('"', 1);
        return close == std::string::npos ? std::string() : boundary.substr(1, close - 1);
    }
    return boundary.substr(0, boundary.find_first_of("; \t"));
}

std::string jsonValue(const nlohmann::json& element)
{
    if (!element.is_object() || !element.contains("Value") || !element["Value"].is_array())
        return {};
    std::string out;
    for (const auto& v : element["Value"]) {
        std::string one;
        if (v.is_string())
            one = v.get<std::string>();
        else if (v.is_number_integer())
            one = std::to_string(v.get<long long>());
        else if (v.is_number())
            one = std::to_string(v.get<double>());
        else if (v.is_object() && v.contains("Alphabetic") && v["Alphabetic"].is_string())
            one = v["Alphabetic"].get<std::string>();
        out += (out.empty() ? "" : "\\") + one;
    }
    return out;
}

std::string hexTag(const QueryKey& key)
{
    char text[9];
    std::snprintf(text, sizeof text, "%04X%04X", key.group, key.element);
    return text;
}

}  // namespace

std::vector<std::string> splitMultipart(const std::string& body, const std::string& contentType, const std::string& what)
{
    const std::string boundary = boundaryOf(contentType);
    if (contentType.find("multipart/related") == std::string::npos || boundary.empty())
        throw BadInputError(what, "the answer is not multipart/related with a boundary (Content-Type: " + contentType + ")");
    const std::string delimiter = "--" + boundary;
    std::vector<std::string> parts;
    std::size_t pos = body.find(delimiter);
    if (pos == std::string::npos)
        throw BadInputError(what, "the multipart answer has no part");
    pos += delimiter.size();
    while (true) {
        if (body.compare(pos, 2, "--") == 0)
            return parts;  // the closing delimiter
        const std::size_t headersEnd = body.find("\r\n\r\n", pos);
        if (headersEnd == std::string::npos)
            throw BadInputError(what, "a part of the multipart answer has no end of headers; the answer is incomplete");
        const std::size_t start = headersEnd + 4;
        const std::size_t next = body.find("\r\n" + delimiter, start);
        if (next == std::string::npos)
            throw BadInputError(what, "the multipart answer ends inside a part; the answer is incomplete");
        parts.push_back(body.substr(start, next - start));
        pos = next + 2 + delimiter.size();
    }
}

std::vector<DicomMatch> parseDicomJsonMatches(const std::string& text, DicomQuery::Level level, const std::string& what)
{
    if (text.empty())
        return {};  // QIDO-RS answers 204 No Content for no match
    const nlohmann::json list = nlohmann::json::parse(text, nullptr, false);
    if (list.is_discarded() || !list.is_array())
        throw BadInputError(what, "the QIDO-RS answer is not a DICOM JSON list");
    std::vector<DicomMatch> matches;
    for (const auto& object : list) {
        if (!object.is_object())
            throw BadInputError(what, "the QIDO-RS answer holds something else than DICOM JSON objects");
        DicomMatch match;
        for (const QueryKey& key : queryKeys(level)) {
            const auto it = object.find(hexTag(key));
            if (it != object.end()) {
                const std::string value = jsonValue(*it);
                if (!value.empty())
                    match[key.keyword] = value;
            }
        }
        matches.push_back(std::move(match));
    }
    return matches;
}

DicomWebClient::DicomWebClient(DicomNode node, NodeOptions options) : node_(std::move(node)), options_(std::move(options))
{
    if (!node_.isDicomWeb())
        throw UsageError("node " + node_.toString() + " is not a DICOMweb URL");
    if (!options_.httpUser.empty() && !options_.bearerToken.empty())
        throw UsageError("give either a user (HTTP basic) or a bearer token, not both");
    if (!options_.httpUser.empty() && options_.httpUser.find(':') == std::string::npos)
        throw UsageError("the user must be given as USER:PASSWORD");
    ensureDcmtkReady();
}

void DicomWebClient::echo() const
{
    Http http(node_, options_);
    const HttpAnswer answer = http.get(endpoint(node_, "/studies?limit=1"), "application/dicom+json");
    if (answer.status != 200 && answer.status != 204)
        http.fail("QIDO-RS answered HTTP " + std::to_string(answer.status));
    parseDicomJsonMatches(answer.body.toStdString(), DicomQuery::Level::Study, node_.toString());
}

std::vector<DicomMatch> DicomWebClient::find(const DicomQuery& query) const
{
    checkQuery(query);
    const bool study = query.level == DicomQuery::Level::Study;
    QUrl url = endpoint(node_, study ? "/studies" : "/studies/" + query.studyUid + "/series");
    QUrlQuery keys;
    const auto set = [&](const char* keyword, const std::string& value) {
        if (!value.empty())
            keys.addQueryItem(keyword, QString::fromStdString(value));
    };
    if (study) {
        set("PatientID", query.patientId);
        set("PatientName", query.patientName);
        set("StudyDate", query.studyDate);
        set("ModalitiesInStudy", query.modality);
        set("AccessionNumber", query.accession);
        set("StudyInstanceUID", query.studyUid);
        set("StudyDescription", query.description);
    } else {
        set("Modality", query.modality);
    }
    for (const QueryKey& key : queryKeys(query.level))
        keys.addQueryItem("includefield", key.keyword);
    url.setQuery(keys);
    Http http(node_, options_);
    const HttpAnswer answer = http.get(url, "application/dicom+json");
    if (answer.status != 200 && answer.status != 204)
        http.fail("QIDO-RS answered HTTP " + std::to_string(answer.status));
    return parseDicomJsonMatches(answer.body.toStdString(), query.level, node_.toString());
}

TransferResult DicomWebClient::retrieve(const RetrieveRequest& request, const TransferProgressFn& progress) const
{
    if (!isDicomUid(request.studyUid) || (!request.seriesUid.empty() && !isDicomUid(request.seriesUid)))
        throw UsageError("the study and series must be DICOM UIDs");
    std::string path = "/studies/" + request.studyUid;
    if (!request.seriesUid.empty())
        path += "/series/" + request.seriesUid;
    Http http(node_, options_);
    const HttpAnswer answer = http.get(endpoint(node_, path), "multipart/related; type=\"application/dicom\"");
    if (answer.status != 200)
        http.fail("WADO-RS answered HTTP " + std::to_string(answer.status));
    // The whole answer parses before anything is written.
    const auto parts = splitMultipart(answer.body.toStdString(), answer.contentType.toStdString(), node_.toString());
    std::error_code ec;
    fs::create_directories(request.outDir, ec);
    if (ec)
        throw BadInputError(request.outDir, "cannot create the output folder: " + ec.message());
    TransferResult result;
    result.counts.remaining = static_cast<int>(parts.size());
    for (std::size_t i = 0; i < parts.size() && !result.cancelled; ++i) {
        // Through a file, not a memory buffer: DCMTK then checks declared lengths against
        // what is there (a damaged part cannot make it allocate gigabytes).
        const fs::path temporary = fs::path(request.outDir) / (".wado-part-" + std::to_string(i));
        {
            std::ofstream out(temporary, std::ios::binary);
            out.write(parts[i].data(), static_cast<std::streamsize>(parts[i].size()));
        }
        DcmFileFormat file;
        try {
            if (file.loadFile(temporary.c_str()).bad())
                throw BadInputError(node_.toString(), "part " + std::to_string(i + 1) + " of the answer is not a DICOM file");
            result.files.push_back(writeReceivedInstance(*file.getDataset(), request.outDir));
        } catch (const BadInputError& e) {
            result.failures.push_back(e.what());
        }
        fs::remove(temporary, ec);
        result.counts.completed = static_cast<int>(result.files.size());
        result.counts.failed = static_cast<int>(result.failures.size());
        result.counts.remaining = static_cast<int>(parts.size() - i - 1);
        if (progress && !progress(result.counts))
            result.cancelled = true;
    }
    return result;
}

TransferResult DicomWebClient::store(const std::vector<std::string>& files, const TransferProgressFn& progress) const
{
    const std::vector<OutgoingInstance> outgoing = readOutgoingInstances(files);  // refused before sending
    Http http(node_, options_);
    TransferResult result;
    constexpr std::size_t kBatch = 16;
    for (std::size_t first = 0; first < outgoing.size() && !result.cancelled; first += kBatch) {
        const std::size_t end = std::min(outgoing.size(), first + kBatch);
        const QByteArray boundary = "EIView-" + QByteArray::number(static_cast<qulonglong>(first)) + "-boundary-7d3f1e";
        QByteArray body;
        for (std::size_t i = first; i < end; ++i) {
            QFile file(QString::fromStdString(outgoing[i].path));
            if (!file.open(QIODevice::ReadOnly))
                throw BadInputError(outgoing[i].path, "cannot be read");
            body += "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n" + file.readAll() + "\r\n";
        }
        body += "--" + boundary + "--\r\n";
        const HttpAnswer answer = http.post(endpoint(node_, "/studies"), "application/dicom+json",
                                            "multipart/related; type=\"application/dicom\"; boundary=" + boundary, body);
        if (answer.status != 200 && answer.status != 202 && answer.status != 409)
            http.fail("STOW-RS answered HTTP " + std::to_string(answer.status));
        const nlohmann::json response = nlohmann::json::parse(answer.body.toStdString(), nullptr, false);
        std::set<std::string> failed;
        if (response.is_object() && response.contains("00081198")) {
            for (const auto& item : response["00081198"].value("Value", nlohmann::json::array()))
                if (item.is_object() && item.contains("00081155"))
                    failed.insert(jsonValue(item["00081155"]));
        } else if (!response.is_object() && answer.status != 200) {
            http.fail("STOW-RS answered HTTP " + std::to_string(answer.status) + " without a readable response");
        }
        for (std::size_t i = first; i < end; ++i) {
            if (failed.count(outgoing[i].sopInstance) || answer.status == 409)
                result.failures.push_back(outgoing[i].path + ": the node refused it (STOW-RS)");
            else
                result.files.push_back(outgoing[i].path);
        }
        result.counts.completed = static_cast<int>(result.files.size());
        result.counts.failed = static_cast<int>(result.failures.size());
        result.counts.remaining = static_cast<int>(outgoing.size() - end);
        if (progress && !progress(result.counts))
            result.cancelled = true;
    }
    return result;
}

}  // namespace ei
