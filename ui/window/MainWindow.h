// The viewer's main window: a view of core/study/StudySession. Study panel, viewport
// grid (one viewport per slot), prediction, heat-map and task panels as docks, toolbar,
// status bar (device, model, last inference time, the running task). The session owns
// the study, the model, the runs and the jobs; the window shows them and forwards the
// user's actions. Every action also has a method, so tests and `eiview --study/--model`
// drive it without clicking. Menus and dialogs: MainWindowMenus.cpp.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "ui/viewer/OverlaySettings.h"

#include <QMainWindow>
#include <QStringList>
#include <QVector>

#include <map>

#include <memory>

class QAction;
class QComboBox;
class QFrame;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QTimer;

namespace ei {

struct Image;
class MeasurementPanel;
class OverlayPanel;
class PredictionPanel;
class StudyBrowser;
class StudyBrowserPanel;
class StudyPanel;
class StudySession;
class TaskPanel;
class Viewport;
class ViewportGrid;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    StudySession* session() const { return session_; }

    // Forwarded to the session (see StudySession): the slow parts run on its workers.
    void openModel(const QString& path);
    quint64 openFiles(const QStringList& paths);
    quint64 openStudyFolder(const QString& dir);
    quint64 assignFile(const QString& slot, const QString& path);
    void clearSlot(const QString& slot);
    void moveSlot(const QString& from, const QString& to);
    bool runInference();
    void cancelInference();
    bool isRunning() const;
    void setRunWhenReady(bool on);
    void setDevice(const QString& device);  // "auto", "cpu", "cuda:k"
    void setPrecision(const QString& precision);  // "auto", "fp32", "tf32", "bf16", "fp16"
    QString runsOnText() const;  // "CPU, fp32" once a model is loaded, else ""

    // Writes the viewports (with overlays and colour bars) as PNG, the report as JSON and,
    // with a pdfPath, the one-page PDF report.
    bool exportTo(const QString& pngPath, const QString& jsonPath, bool includePatientIdentifiers,
                  QString* error = nullptr, const QString& pdfPath = {});
    void setOverlayVisible(bool visible);  // all viewports
    void toggleOverlay();

    MeasurementPanel* measurementPanel() const { return measurementPanel_; }
    // The next / previous study of the folder or list (StudySession::openAdjacentStudy),
    // after asking if unsaved work would be lost (never when confirm is false).
    quint64 openAdjacentStudy(int direction, bool confirm = true);
    // A ground-truth mask for the active viewport's slot (StudySession::loadMask).
    quint64 openMask(const QString& path);
    // The heat map each viewport shows ("" where the overlay is hidden), by slot.
    std::map<QString, QString> shownMapKinds() const;

    // Keyboard focus to the active viewport (after every dialog, so the keys act on the
    // image again).
    void focusActiveViewport();

    // Stops the workers and frees the model (before QApplication returns).
    void shutdown();

    ViewportGrid* viewportGrid() const { return grid_; }
    PredictionPanel* predictionPanel() const { return prediction_; }
    OverlayPanel* overlayPanel() const { return overlay_; }
    StudyPanel* studyPanel() const { return study_; }
    TaskPanel* taskPanel() const { return tasks_; }
    StudyBrowser* studyBrowser() const { return studyBrowser_; }
    StudyBrowserPanel* studyBrowserPanel() const { return studyBrowserPanel_; }
    std::shared_ptr<const InferenceResult> currentResult() const;
    const ModelSummary& model() const;
    QString resolvedDevice() const;
    QString messageText() const;  // the notice above the viewports ("" when none)
    QStringList slotNames() const;
    std::shared_ptr<const Image> slotImage(const QString& slot) const;
    int cacheSize() const;

Q_SIGNALS:
    void modelLoaded();
    void modelFailed(const QString& message);
    void inferenceFinished();
    void inferenceFailed(const QString& message);
    void inferenceCancelled();
    void runRefused(const QString& reason);
    void filesOpened(quint64 ticket, const QStringList& problems);

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void connectSession();
    void buildActions();  // MainWindowMenus.cpp
    void buildDocks();
    void buildStatusBar();
    void buildTools();  // MainWindowTools.cpp: measuring tools, the measurement panel, next / previous study
    void buildPacs();   // MainWindowPacs.cpp: the Studies dock and the node dialog
    void sendResultDialog();
    void showMeasurements();
    void showMaskReadout();
    void refreshMapReadouts(const std::map<QString, QString>& shownBefore);
    bool confirmReplacingStudy();
    QStringList reportSections() const;
    void showSlots();
    void showStudy();
    void showResult();
    // The map kinds of one viewport, or of all of them (target ""), in order.
    QStringList mapKindsFor(const QString& target) const;
    void showNotice();
    void showBusy(bool busy);
    void applyOverlay(const QString& target, const OverlaySettings& settings);
    void rebuildRecentMenus();  // MainWindowMenus.cpp
    // Preset k (0-based) of the active viewport's modality, if it has that many.
    void applyWindowPreset(int k);
    void openDialog();
    void openModelDialog();
    void exportDialog();
    void showShortcuts();

    StudySession* session_ = nullptr;
    OverlaySettings overlaySettings_;

    ViewportGrid* grid_ = nullptr;
    PredictionPanel* prediction_ = nullptr;
    OverlayPanel* overlay_ = nullptr;
    StudyPanel* study_ = nullptr;
    TaskPanel* tasks_ = nullptr;
    StudyBrowser* studyBrowser_ = nullptr;
    StudyBrowserPanel* studyBrowserPanel_ = nullptr;
    MeasurementPanel* measurementPanel_ = nullptr;
    QFrame* notice_ = nullptr;
    QLabel* message_ = nullptr;
    QComboBox* deviceBox_ = nullptr;
    QComboBox* precisionBox_ = nullptr;
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
    QVector<QAction*> presetActions_;  // Alt+1..9
};

}  // namespace ei
