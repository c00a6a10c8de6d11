// The study browser as a widget-free model (ITK-SNAP's GUI/Model split): where studies
// are searched (the local database or a configured PACS node), the matches, and the work
// on them - search, retrieve into the local database, import files, remove, test a node,
// send a result back as DICOM - as tasks of one WorkerQueue that the window's task list
// shows with progress and Cancel. It also runs EIView's C-STORE receiver while the app
// runs, importing what arrives. The dock and the node dialog only show and forward.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/io/Image.h"
#include "core/jobs/WorkerQueue.h"
#include "core/pacs/DicomNode.h"
#include "core/pacs/DicomQuery.h"

#include <QObject>
#include <QString>
#include <QTimer>
#include <QVector>

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace ei {

class StorageReceiver;

struct PacsNodeEntry {
    QString name;     // what the user calls it ("Hospital PACS")
    QString address;  // AET@HOST:PORT or an http(s)://.../dicom-web URL
    QString login;    // DICOMweb: USER:PASSWORD (basic), or "bearer:TOKEN"; empty: none
};

struct PacsSettings {
    QVector<PacsNodeEntry> nodes;
    QString databaseDir;        // the local study database
    QString callingAe = QStringLiteral("EIVIEW");
    int receiverPort = 11112;   // C-STORE receiver (C-MOVE destination)
    bool receiverEnabled = false;
    int timeoutSeconds = 30;
};

// QSettings "pacs/..." (the database defaults to the app's data folder + /studies).
PacsSettings loadPacsSettings();
void savePacsSettings(const PacsSettings& settings);

class StudyBrowser : public QObject {
    Q_OBJECT
public:
    explicit StudyBrowser(PacsSettings settings, QObject* parent = nullptr);
    ~StudyBrowser() override;

    const PacsSettings& settings() const { return settings_; }
    void setSettings(const PacsSettings& settings);  // restarts the receiver when it changed
    WorkerQueue* job() const { return job_; }

    // -1: the local database; else an index into settings().nodes.
    int source() const { return source_; }
    void setSource(int source);
    bool sourceIsLocal() const { return source_ < 0; }

    quint64 search(const DicomQuery& query);  // matchesChanged or failed
    const std::vector<DicomMatch>& matches() const { return matches_; }
    // From the current node into the local database; retrieved follows. DIMSE: C-MOVE to
    // the receiver when it runs, else C-GET; DICOMweb: WADO-RS.
    quint64 retrieve(const QString& studyUid);
    quint64 importPaths(const QStringList& paths);  // imported(added)
    quint64 testConnection(int node);                // connectionTested
    // The result as an SR plus map captures (DicomResults.h), sent to `node`; resultSent.
    quint64 sendResult(int node, std::shared_ptr<const InferenceResult> result, const ModelSummary& model,
                       std::map<std::string, Image> images);
    // A local study's series folders, for StudySession::openStudy.
    QStringList seriesFolders(const QString& studyUid) const;
    void removeStudy(const QString& studyUid);  // local; then searches again

    bool receiverRunning() const { return receiver_ != nullptr; }
    QString receiverError() const { return receiverError_; }

Q_SIGNALS:
    void sourceChanged();
    void matchesChanged();
    void retrieved(const QString& studyUid, int instances);
    void imported(int added, int already);
    void connectionTested(int node, bool ok, const QString& message);
    void resultSent(const QString& message);
    void receiverChanged();
    void received(int instances);  // imported from the receiver

private:
    NodeOptions optionsFor(int node) const;
    DicomNode nodeAt(int node) const;
    void restartReceiver();
    void drainReceived();

    PacsSettings settings_;
    WorkerQueue* job_ = nullptr;
    int source_ = -1;
    std::vector<DicomMatch> matches_;
    DicomQuery lastQuery_;
    std::unique_ptr<StorageReceiver> receiver_;
    QString receiverError_;
    QString receiverStage_;  // where the receiver writes before the import
    std::mutex receivedMutex_;
    int receivedPending_ = 0;
    QTimer drainTimer_;
    std::map<quint64, int> connectionTests_;  // ticket -> node
};

}  // namespace ei
