// The viewer's study session, without widgets (ITK-SNAP's GUI/Model and MITK's logic /
// UI twins are the models): it owns the study (slots, their placement rules, the images
// and where they came from), the loaded model, the device, the run state, the result
// cache, the recent items and the jobs that do the slow work (LoadJob, InferenceJob),
// listed in one TaskList. Every slow step runs on a worker; the session answers on the
// GUI thread by signal. ui/window/MainWindow is a view of it; tests drive it without
// widgets.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/inference/ResultCache.h"
#include "core/study/Study.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <optional>

namespace ei {

class InferenceJob;
class LoadJob;
class MeasurementList;
struct Measurement;
class RecentItems;
class TaskList;
struct LoadOutcome;

class StudySession : public QObject {
    Q_OBJECT
public:
    explicit StudySession(QObject* parent = nullptr);
    ~StudySession() override;  // shutdown()

    // ---- model and device
    // Loads the model on the worker (modelLoaded or modelFailed follow). The model's
    // modalities become the slots; images already open are placed again.
    void openModel(const QString& path);
    void setDevice(const QString& device);  // "auto", "cpu", "cuda:k"; reloads the model
    QString device() const { return device_; }
    QString resolvedDevice() const { return resolvedDevice_; }
    // "auto", "fp32", "tf32", "bf16", "fp16"; reloads the model. A precision the device
    // cannot run fails the load with the reason (modelFailed).
    void setPrecision(const QString& precision);
    QString precision() const { return precision_; }
    QString resolvedPrecision() const { return QString::fromStdString(model_.precision); }
    const ModelSummary& model() const { return model_; }
    bool hasModel() const { return !model_.path.empty(); }

    // ---- study
    // Files, series folders, DICOMDIRs or study folders, opened on the worker; each image
    // goes to the free slot it fits best (Study::place). filesOpened(ticket, problems)
    // follows, problems also as a notice. Returns the ticket.
    quint64 openFiles(const QStringList& paths);
    // The next study: what opens replaces the current images (the model stays; if nothing
    // opens, the current study stays). A folder goes to Recent as the folder.
    quint64 openStudy(const QStringList& paths);
    quint64 openStudyFolder(const QString& dir) { return openStudy({dir}); }
    // The user's choice: this file into this slot, replacing what it held. Opened on the
    // worker; filesOpened(ticket, problems) follows.
    quint64 assignFile(const QString& slot, const QString& path);
    void clearSlot(const QString& slot);
    void moveSlot(const QString& from, const QString& to);  // swaps the two slots' images
    // Empties every slot (the model stays): the next patient.
    void closeStudy();
    // The study opened last with openStudy (a folder, or the first file), and its
    // neighbours: the sibling folders of a study folder (sorted by name), else the recent
    // studies. openAdjacentStudy(+1 / -1) opens the next / previous one like openStudy
    // (model kept, run on open if set); 0 and a notice when there is none that way.
    QString currentStudySource() const { return studySource_; }
    QStringList studySequence() const;
    quint64 openAdjacentStudy(int direction);
    // Ground truth: a label / mask file for a slot's image, opened on the worker onto
    // the image's grid (maskChanged, or a notice naming the file); dropped with the image.
    quint64 loadMask(const QString& slot, const QString& path);
    std::shared_ptr<const Image> mask(const QString& slot) const;
    void clearMask(const QString& slot);
    // "62 % of the hottest 10 % lies inside the mask (it covers 8 % of the image) ...":
    // the map of `kind` on the slot against its mask; "" without a result, map or mask.
    QString mapVsMaskText(const QString& slot, const QString& kind) const;

    // True when replacing the study now would lose work: a run in flight, or a result
    // that was not exported.
    bool hasUnsavedWork() const;
    void cancelLoading();
    bool isLoading() const;

    const Study& study() const { return study_; }
    QStringList slotNames() const;
    QString slotKind(const QString& slot) const;
    std::shared_ptr<const Image> slotImage(const QString& slot) const;
    QString slotPath(const QString& slot) const;

    // ---- running
    // Starts a run (or takes the cached result). False, with the reason as a notice and
    // runRefused, when the model is missing, a slot is empty or a run is in flight.
    bool run();
    void cancelRun();
    bool isRunning() const;  // the run of runTicket_ is queued or running
    // Pixel attributions of the current result (Integrated Gradients of the fused
    // probability of class `targetIndex`), run like a run: progress, cancelRun, and
    // attributionFinished with the result's "ig" maps in place. False, with the reason,
    // without a result or while a run is in flight.
    bool computeAttribution(int targetIndex, int steps = 32, const QString& baseline = QStringLiteral("black"));
    // Runs as soon as the model and every slot are ready (used at start-up; one attempt).
    void setRunWhenReady(bool on);
    std::shared_ptr<const InferenceResult> result() const { return result_; }
    double lastRunSeconds() const { return lastRunSeconds_; }
    int cacheSize() const { return int(cache_.size()); }

    // ---- export: the JSON report of the current result, the view's PNG and, when a path
    // is given, the PDF report (atomic writes; identifiers only when asked, and never in
    // the PNG or PDF). Throws ei::Error.
    // mapKinds: the heat map shown per slot (for the measurements' map statistics).
    void exportResult(const QByteArray& png, const QString& pngPath, const QString& jsonPath,
                      bool includePatientIdentifiers, const QByteArray& pdf = {}, const QString& pdfPath = {},
                      const std::map<QString, QString>& mapKinds = {});
    // One line per measurement (as the panel and the PDF show them).
    QStringList measurementLines(const std::map<QString, QString>& mapKinds = {}) const;

    // ---- the rest
    QString notice() const { return notice_; }  // the message for the user ("" when none)
    bool noticeIsWarning() const { return noticeWarning_; }
    void dismissNotice() { setNotice({}); }
    RecentItems* recent() const { return recent_; }
    TaskList* tasks() const { return tasks_; }
    // The study's measurements (dropped with the image they were made on).
    MeasurementList* measurements() const { return measurements_; }
    InferenceJob* inferenceJob() const { return inference_; }
    LoadJob* loadJob() const { return loader_; }
    // Stops the workers and frees the model (before QApplication returns).
    void shutdown();

Q_SIGNALS:
    void modelLoading(const QString& path);
    void modelLoaded();
    void modelFailed(const QString& message);
    void slotsChanged();   // slot names or kinds
    void studyChanged();   // which image is in which slot
    void resultChanged();  // result() (nullptr when the study has none)
    void filesOpened(quint64 ticket, const QStringList& problems);
    void runStarted();
    void runProgress(double fraction, const QString& stage);
    void inferenceFinished();
    void inferenceFailed(const QString& message);
    void inferenceCancelled();
    void attributionFinished();
    void runRefused(const QString& reason);
    void maskChanged(const QString& slot);
    void busyChanged(bool busy);                       // a run or a model load in flight
    void noticeChanged();                              // notice(): a warning or "" (cleared)
    void statusMessage(const QString& text);           // transient ("result from the cache")

private:
    // Sets a model setting (device, precision); a change reloads an open model.
    void reloadModelWith(QString& setting, const QString& value);
    void onModelReady(const ModelSummary& summary, const QString& device);
    void onLoaded(quint64 ticket, const LoadOutcome& outcome);
    void setSlots(const std::vector<StudySlot>& slots);
    // Returns, per candidate, whether it found a slot.
    std::vector<bool> place(const std::vector<Study::Candidate>& candidates);
    void studyEdited();  // the images changed: the cached result for them, or none
    void dropAnnotations(const QString& slot);  // measurements and mask of a slot ("" all)
    // What a measurement's numbers are taken from: the image as measured (its reformat)
    // and the heat map shown there (none off the stored plane). nullopt: no image.
    struct MeasurementContext {
        std::shared_ptr<const Image> image;
        const SimilarityMap* map = nullptr;
        int mapSlice = -1;
    };
    std::optional<MeasurementContext> measurementContext(const Measurement& m,
                                                   const std::map<QString, QString>& mapKinds) const;
    void setResult(std::shared_ptr<const InferenceResult> result);
    void setNotice(const QString& text, bool warning = true);
    std::string cacheKey() const;
    bool runIsAttribution_ = false;  // runTicket_ is a computeAttribution
    void maybeAutoRun();

    struct PendingLoad {
        QString slot;          // "" for automatic placement
        bool replace = false;  // a new study: the current images go
        QStringList recent;    // what goes to Recent when it opened (empty: each placed path)
    };

    Study study_;
    ModelSummary model_;
    QString modelPath_;
    QString device_ = QStringLiteral("auto");
    QString precision_ = QStringLiteral("auto");
    QString resolvedDevice_;
    std::shared_ptr<const InferenceResult> result_;
    ResultCache cache_;
    QString notice_;
    bool noticeWarning_ = true;
    bool runWhenReady_ = false;
    quint64 runTicket_ = 0;
    quint64 modelTicket_ = 0;
    qint64 runStartedMs_ = 0;
    double lastRunSeconds_ = 0;
    std::map<quint64, PendingLoad> loads_;
    QString studySource_;
    std::map<QString, std::shared_ptr<const Image>> masks_;
    std::map<quint64, QString> maskLoads_;  // ticket -> slot
    bool exported_ = false;

    InferenceJob* inference_ = nullptr;
    LoadJob* loader_ = nullptr;
    RecentItems* recent_ = nullptr;
    TaskList* tasks_ = nullptr;
    MeasurementList* measurements_ = nullptr;
};

}  // namespace ei
