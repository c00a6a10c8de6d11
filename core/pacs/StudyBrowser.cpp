#include "core/pacs/StudyBrowser.h"

#include "core/pacs/PacsClient.h"
#include "core/pacs/StorageReceiver.h"
#include "core/pacs/StudyDatabase.h"
#include "core/report/DicomResults.h"
#include "core/report/MapOverlay.h"
#include "models/Error.h"

#include <QDir>
#include <QDirIterator>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <set>

namespace ei {

namespace {

TransferProgressFn reportTo(const JobControl& control, const QString& verb)
{
    return [&control, verb](const TransferCounts& counts) {
        const int total = counts.remaining >= 0 ? counts.completed + counts.failed + counts.remaining : 0;
        const double fraction = total > 0 ? double(counts.completed + counts.failed) / total : 0.0;
        control.report(0.9 * fraction, (verb + QStringLiteral(": %1 instances").arg(counts.completed)).toStdString());
        return !control.cancelled();
    };
}

// The whole files under the receiver's folder (it writes dot-named parts and renames them).
std::vector<std::string> stagedFiles(const QString& stage)
{
    std::vector<std::string> files;
    QDirIterator it(stage, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString file = it.next();
        if (!QFileInfo(file).fileName().startsWith('.'))
            files.push_back(file.toStdString());
    }
    return files;
}

std::vector<std::string> toStd(const QStringList& list)
{
    std::vector<std::string> out;
    for (const QString& s : list)
        out.push_back(s.toStdString());
    return out;
}

}  // namespace

PacsSettings loadPacsSettings()
{
    QSettings s;
    PacsSettings out;
    const int n = s.beginReadArray(QStringLiteral("pacs/nodes"));
    for (int i = 0; i < n; ++i) {
        s.setArrayIndex(i);
        out.nodes.push_back({s.value("name").toString(), s.value("address").toString(), s.value("login").toString()});
    }
    s.endArray();
    const QString data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    out.databaseDir = s.value(QStringLiteral("pacs/database"), data + QStringLiteral("/studies")).toString();
    out.callingAe = s.value(QStringLiteral("pacs/callingAe"), out.callingAe).toString();
    out.receiverPort = s.value(QStringLiteral("pacs/receiverPort"), out.receiverPort).toInt();
    out.receiverEnabled = s.value(QStringLiteral("pacs/receiverEnabled"), false).toBool();
    out.timeoutSeconds = s.value(QStringLiteral("pacs/timeout"), out.timeoutSeconds).toInt();
    return out;
}

void savePacsSettings(const PacsSettings& settings)
{
    QSettings s;
    s.remove(QStringLiteral("pacs/nodes"));
    s.beginWriteArray(QStringLiteral("pacs/nodes"), static_cast<int>(settings.nodes.size()));
    for (int i = 0; i < settings.nodes.size(); ++i) {
        s.setArrayIndex(i);
        s.setValue("name", settings.nodes[i].name);
        s.setValue("address", settings.nodes[i].address);
        s.setValue("login", settings.nodes[i].login);
    }
    s.endArray();
    s.setValue(QStringLiteral("pacs/database"), settings.databaseDir);
    s.setValue(QStringLiteral("pacs/callingAe"), settings.callingAe);
    s.setValue(QStringLiteral("pacs/receiverPort"), settings.receiverPort);
    s.setValue(QStringLiteral("pacs/receiverEnabled"), settings.receiverEnabled);
    s.setValue(QStringLiteral("pacs/timeout"), settings.timeoutSeconds);
}

StudyBrowser::StudyBrowser(PacsSettings settings, QObject* parent)
    : QObject(parent), settings_(std::move(settings)), job_(new WorkerQueue(this))
{
    // A failed "Test connection" answers as connectionTested, besides the job's failed().
    connect(job_, &WorkerQueue::failed, this, [this](quint64 ticket, const QString& message) {
        const auto it = connectionTests_.find(ticket);
        if (it == connectionTests_.end())
            return;
        const int node = it->second;
        connectionTests_.erase(it);
        Q_EMIT connectionTested(node, false, message);
    });
    drainTimer_.setInterval(1000);
    connect(&drainTimer_, &QTimer::timeout, this, &StudyBrowser::drainReceived);
    restartReceiver();
}

StudyBrowser::~StudyBrowser()
{
    receiver_.reset();
    job_->shutdown();
}

void StudyBrowser::setSettings(const PacsSettings& settings)
{
    const bool receiverChanged = settings.receiverEnabled != settings_.receiverEnabled ||
                                 settings.receiverPort != settings_.receiverPort || settings.callingAe != settings_.callingAe ||
                                 settings.databaseDir != settings_.databaseDir;
    settings_ = settings;
    if (source_ >= settings_.nodes.size())
        setSource(-1);
    if (receiverChanged)
        restartReceiver();
}

void StudyBrowser::setSource(int source)
{
    source_ = source >= 0 && source < settings_.nodes.size() ? source : -1;
    matches_.clear();
    Q_EMIT sourceChanged();
    Q_EMIT matchesChanged();
}

DicomNode StudyBrowser::nodeAt(int node) const
{
    if (node < 0 || node >= settings_.nodes.size())
        throw UsageError("no such PACS node");
    return DicomNode::parse(settings_.nodes[node].address.trimmed().toStdString());
}

NodeOptions StudyBrowser::optionsFor(int node) const
{
    NodeOptions options;
    options.callingAe = settings_.callingAe.toStdString();
    options.timeoutSeconds = settings_.timeoutSeconds;
    if (node >= 0 && node < settings_.nodes.size()) {
        const QString login = settings_.nodes[node].login;
        if (login.startsWith(QStringLiteral("bearer:")))
            options.bearerToken = login.mid(7).toStdString();
        else
            options.httpUser = login.toStdString();
    }
    return options;
}

quint64 StudyBrowser::search(const DicomQuery& query)
{
    lastQuery_ = query;
    const int source = source_;
    const std::string dir = settings_.databaseDir.toStdString();
    DicomNode node;
    if (source >= 0)
        node = nodeAt(source);  // a malformed address fails here, on the GUI thread, as a UsageError
    const NodeOptions options = optionsFor(source);
    const QString title = source < 0 ? tr("Searching the local studies") : tr("Searching %1").arg(settings_.nodes[source].name);
    return job_->submit(title, [=](const JobControl& control) -> WorkerQueue::Deliver {
        control.checkpoint(0.1, "searching");
        auto found = std::make_shared<std::vector<DicomMatch>>(source < 0 ? StudyDatabase(dir).find(query)
                                                                          : connectTo(node, options)->find(query));
        return [this, found, source](quint64) {
            if (source != source_)
                return;  // the user moved on to another source
            matches_ = std::move(*found);
            Q_EMIT matchesChanged();
        };
    });
}

quint64 StudyBrowser::retrieve(const QString& studyUid)
{
    const int source = source_;
    const DicomNode node = nodeAt(source);
    const NodeOptions options = optionsFor(source);
    const std::string dir = settings_.databaseDir.toStdString();
    const bool moveToReceiver = receiver_ && !node.isDicomWeb();
    const QString stage = receiverStage_;
    const int receiverPort = settings_.receiverPort;
    return job_->submit(tr("Retrieving a study from %1").arg(settings_.nodes[source].name), [=](const JobControl& control)
                                                                                                -> WorkerQueue::Deliver {
        QDir().mkpath(QString::fromStdString(dir));
        QTemporaryDir incoming(QString::fromStdString(dir) + QStringLiteral("/incoming-XXXXXX"));
        if (!incoming.isValid())
            throw BadInputError(dir, "cannot make a folder for the incoming study");
        RetrieveRequest request;
        request.studyUid = studyUid.toStdString();
        request.outDir = incoming.path().toStdString();
        // With the receiver running, a DIMSE node sends by C-MOVE to it (as PACS expect);
        // otherwise C-GET (or WADO-RS) brings the study back over the same connection.
        if (moveToReceiver) {
            request.method = RetrieveRequest::Method::Move;
            request.toRunningReceiver = true;
            request.receiverPort = receiverPort;
        }
        const TransferResult result = connectTo(node, options)->retrieve(request, reportTo(control, tr("Retrieving")));
        if (result.cancelled)
            throw Cancelled();
        if (!result.failures.empty() || result.counts.failed > 0)
            throw BadInputError(node.toString(), std::to_string(std::max<std::size_t>(result.failures.size(), result.counts.failed)) +
                                                     " instance(s) failed" +
                                                     (result.failures.empty() ? std::string() : "; first: " + result.failures.front()));
        control.checkpoint(0.92, "adding to the local studies");
        std::vector<std::string> received{request.outDir};
        if (moveToReceiver)  // what the receiver wrote: whole files only
            received = stagedFiles(stage);
        const ImportResult imported = StudyDatabase(dir).import(received);
        if (moveToReceiver)
            for (const auto& file : received)
                QFile::remove(QString::fromStdString(file));
        const int instances = imported.added + imported.already;
        return [this, studyUid, instances](quint64) { Q_EMIT retrieved(studyUid, instances); };
    });
}

quint64 StudyBrowser::importPaths(const QStringList& paths)
{
    const std::string dir = settings_.databaseDir.toStdString();
    const auto files = toStd(paths);
    return job_->submit(tr("Importing into the local studies"), [=](const JobControl& control) -> WorkerQueue::Deliver {
        const ImportResult result = StudyDatabase(dir).import(files, [&control](int done, int total) {
            control.report(double(done) / total, "importing");
            return !control.cancelled();
        });
        return [this, result](quint64) {
            Q_EMIT imported(result.added, result.already);
            if (sourceIsLocal())
                search(lastQuery_);
        };
    });
}

quint64 StudyBrowser::testConnection(int index)
{
    DicomNode node;
    try {
        node = nodeAt(index);
    } catch (const Error& e) {
        Q_EMIT connectionTested(index, false, QString::fromStdString(e.what()));
        return 0;
    }
    const NodeOptions options = optionsFor(index);
    const quint64 ticket = job_->submit(tr("Testing %1").arg(settings_.nodes[index].name), [=](const JobControl&) -> WorkerQueue::Deliver {
        connectTo(node, options)->echo();
        return [this, index, node](quint64 ticket) {
            connectionTests_.erase(ticket);
            Q_EMIT connectionTested(index, true, tr("%1 answered.").arg(QString::fromStdString(node.toString())));
        };
    });
    connectionTests_[ticket] = index;
    return ticket;
}

quint64 StudyBrowser::sendResult(int index, std::shared_ptr<const InferenceResult> result, const ModelSummary& model,
                                 std::map<std::string, Image> images)
{
    const DicomNode node = nodeAt(index);
    const NodeOptions options = optionsFor(index);
    const QString name = settings_.nodes[index].name;
    return job_->submit(tr("Sending the result to %1").arg(name), [=](const JobControl& control) -> WorkerQueue::Deliver {
        std::vector<DicomSource> sources;
        std::map<std::string, std::vector<std::vector<float>>> backgrounds;
        for (const auto& m : model.modalities) {
            const auto it = images.find(m.name);
            if (it == images.end())
                continue;
            sources.push_back(readDicomSource(m.name, it->second.sourcePath, it->second.tags.seriesInstanceUid));
            backgrounds[m.name] = overlayBackgrounds(it->second, m);
        }
        checkOnePatient(sources);
        control.checkpoint(0.1, "writing the SR and the map captures");
        QTemporaryDir out;
        const DicomResultWriter writer(*result, model, sources);
        std::vector<std::string> files = writer.writeStructuredReport(out.path().toStdString()).files;
        for (const auto& f : writer.writeMapCaptures(out.path().toStdString(), backgrounds).files)
            files.push_back(f);
        const TransferResult sent = connectTo(node, options)->store(files, reportTo(control, tr("Sending")));
        if (sent.cancelled)
            throw Cancelled();
        if (!sent.failures.empty())
            throw BadInputError(node.toString(), sent.failures.front());
        const QString message = tr("Sent the SR and %1 map captures to %2.").arg(files.size() - 1).arg(name);
        return [this, message](quint64) { Q_EMIT resultSent(message); };
    });
}

QStringList StudyBrowser::seriesFolders(const QString& studyUid) const
{
    QStringList folders;
    for (const auto& file : StudyDatabase(settings_.databaseDir.toStdString()).files(studyUid.toStdString())) {
        const QString folder = QFileInfo(QString::fromStdString(file)).path();
        if (!folders.contains(folder))
            folders << folder;
    }
    return folders;
}

void StudyBrowser::removeStudy(const QString& studyUid)
{
    StudyDatabase(settings_.databaseDir.toStdString()).removeStudy(studyUid.toStdString());
    search(lastQuery_);
}

void StudyBrowser::restartReceiver()
{
    drainTimer_.stop();
    receiver_.reset();
    receiverError_.clear();
    if (settings_.receiverEnabled) {
        receiverStage_ = settings_.databaseDir + QStringLiteral("/receiving");
        QDir().mkpath(receiverStage_);
        auto receiver = std::make_unique<StorageReceiver>(settings_.callingAe.toStdString(), settings_.receiverPort,
                                                          receiverStage_.toStdString(),
                                                          [this](const std::string& file, const std::string&) {
                                                              std::lock_guard<std::mutex> lock(receivedMutex_);
                                                              receivedPending_ += file.empty() ? 0 : 1;
                                                              return true;
                                                          });
        try {
            receiver->start();
            receiver_ = std::move(receiver);
            drainTimer_.start();
        } catch (const Error& e) {
            receiverError_ = QString::fromStdString(e.what());
        }
    }
    Q_EMIT receiverChanged();
}

void StudyBrowser::drainReceived()
{
    {
        std::lock_guard<std::mutex> lock(receivedMutex_);
        if (receivedPending_ == 0 || job_->isBusy())
            return;
        receivedPending_ = 0;
    }
    const std::string dir = settings_.databaseDir.toStdString();
    const QString stage = receiverStage_;
    job_->submit(tr("Adding received instances"), [=](const JobControl&) -> WorkerQueue::Deliver {
        const auto paths = stagedFiles(stage);  // on the worker: after any retrieve that took them
        const ImportResult result = StudyDatabase(dir).import(paths);
        for (const auto& p : paths)
            QFile::remove(QString::fromStdString(p));
        return [this, result](quint64) {
            Q_EMIT received(result.added);
            if (sourceIsLocal())
                search(lastQuery_);
        };
    });
}

}  // namespace ei
