// The viewer's main window: study panel, viewport grid (one viewport per model
// modality), prediction and overlay panels as docks, toolbar, status bar (device,
// model, last inference time). It owns the study (images per slot) and the inference
// job; every action also has a method, so tests and `eiview --study/--model` drive it
// without clicking.
#pragma once

#include "core/io/Image.h"
#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/inference/ResultCache.h"
#include "ui/viewer/OverlaySettings.h"

#include <QMainWindow>
#include <QStringList>
#include <QVector>

#include <memory>

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTimer;

namespace ei {

class InferenceJob;
class OverlayPanel;
class PredictionPanel;
class StudyPanel;
class ViewportGrid;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads the model on the worker (modelLoaded / modelFailed follow).
    void openModel(const QString& path);
    // Files, series folders or DICOMDIRs; each image goes to the best free slot.
    // Returns the problems (one line per file that could not be loaded).
    QStringList openFiles(const QStringList& paths);
    // Every image in a folder (a folder of DICOM files counts as one series).
    QStringList openStudyFolder(const QString& dir);
    // Manual assignment: replaces what the slot held.
    bool assignFile(const QString& slot, const QString& path, QString* error = nullptr);
    void clearSlot(const QString& slot);
    void moveSlot(const QString& from, const QString& to);  // swaps the two slots' images

    // Starts a run (or shows the cached result). False, with the reason shown in the
    // window and emitted as runRefused, when the model is missing or a slot is empty.
    bool runInference();
    void cancelInference();
    bool isRunning() const;
    // Runs as soon as the model and every slot are ready (used at start-up).
    void setRunWhenReady(bool on);

    void setDevice(const QString& device);  // "auto", "cpu", "cuda:k"
    // Writes the viewports (with overlays and colour bars) as PNG and the report as JSON.
    bool exportTo(const QString& pngPath, const QString& jsonPath, bool includePatientIdentifiers,
                  QString* error = nullptr);
    void setOverlayVisible(bool visible);  // all viewports
    void toggleOverlay();

    // Stops the worker and frees the model (before QApplication returns).
    void shutdown();

    ViewportGrid* viewportGrid() const { return grid_; }
    PredictionPanel* predictionPanel() const { return prediction_; }
    OverlayPanel* overlayPanel() const { return overlay_; }
    StudyPanel* studyPanel() const { return study_; }
    InferenceJob* job() const { return job_; }
    std::shared_ptr<const InferenceResult> currentResult() const { return result_; }
    const ModelSummary& model() const { return model_; }
    QString resolvedDevice() const { return resolvedDevice_; }
    QString messageText() const;  // the notice above the viewports ("" when none)
    QStringList slotNames() const;
    std::shared_ptr<const Image> slotImage(const QString& slot) const;
    int cacheSize() const { return int(cache_.size()); }

Q_SIGNALS:
    void modelLoaded();
    void modelFailed(const QString& message);
    void inferenceFinished();
    void inferenceFailed(const QString& message);
    void inferenceCancelled();
    void runRefused(const QString& reason);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    struct Slot {
        QString name;
        QString kind = QStringLiteral("image");
        std::shared_ptr<const Image> image;
        QString path;
    };

    void buildActions();
    void buildDocks();
    void onModelReady(const ModelSummary& summary, const QString& device);
    void rebuildSlots(const QVector<Slot>& wanted);
    void placeImages(QVector<Slot> images);  // auto assignment into slots_
    void refreshStudy();
    void applyResult(std::shared_ptr<const InferenceResult> result);
    void applyOverlay(const QString& target, const OverlaySettings& settings);
    void showMessage(const QString& text, bool warning = true);
    void clearMessage();
    void setBusy(bool busy);
    void addRecent(const QString& key, const QString& path);
    void rebuildRecentMenus();
    void openDialog();
    void openModelDialog();
    void exportDialog();
    void showShortcuts();
    void maybeAutoRun();
    std::string cacheKey() const;
    static int slotScore(const Slot& slot, const Image& image, const QString& path);

    // study and model
    QVector<Slot> slots_;
    ModelSummary model_;
    QString modelPath_;
    QString device_ = QStringLiteral("auto");
    QString resolvedDevice_;
    std::shared_ptr<const InferenceResult> result_;
    ResultCache cache_;
    OverlaySettings overlaySettings_;
    bool runWhenReady_ = false;
    quint64 runTicket_ = 0;
    bool runInFlight_ = false;
    quint64 modelTicket_ = 0;
    qint64 runStartedMs_ = 0;

    // widgets
    InferenceJob* job_ = nullptr;
    ViewportGrid* grid_ = nullptr;
    PredictionPanel* prediction_ = nullptr;
    OverlayPanel* overlay_ = nullptr;
    StudyPanel* study_ = nullptr;
    QLabel* message_ = nullptr;
    QComboBox* deviceBox_ = nullptr;
    QLabel* deviceLabel_ = nullptr;
    QLabel* modelLabel_ = nullptr;
    QLabel* timeLabel_ = nullptr;
    QLabel* readOut_ = nullptr;
    QLabel* stage_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QTimer* progressDelay_ = nullptr;
    QAction* runAction_ = nullptr;
    QAction* cancelAction_ = nullptr;
    QAction* overlayAction_ = nullptr;
    QAction* linkAction_ = nullptr;
    QMenu* recentStudies_ = nullptr;
    QMenu* recentModels_ = nullptr;
    QMenu* viewMenu_ = nullptr;
};

}  // namespace ei
