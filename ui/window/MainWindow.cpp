// See MainWindow.h. The window keeps only what is about showing: overlay settings per
// viewport, docks, the notice line and the status bar.
#include "ui/window/MainWindow.h"

#include "core/jobs/TaskList.h"
#include "core/study/StudySession.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/panels/StudyPanel.h"
#include "ui/panels/TaskPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"
#include "ui/window/ExportImage.h"
#include "ui/window/ViewerResources.h"

#include <QBuffer>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <array>

namespace ei {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    ViewerResources::init();
    setWindowTitle(QStringLiteral("EIView"));
    setWindowIcon(QIcon(QStringLiteral(":/eiview/icons/eiview.svg")));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    session_ = new StudySession(this);

    // Central area: a notice line above the viewport grid.
    auto* central = new QWidget(this);
    auto* v = new QVBoxLayout(central);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    // The notice: a message line with a close button; it stays until the next success.
    notice_ = new QFrame(central);
    notice_->setObjectName(QStringLiteral("notice"));
    message_ = new QLabel(notice_);
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* dismiss = new QToolButton(notice_);
    dismiss->setObjectName(QStringLiteral("noticeClose"));
    dismiss->setText(QStringLiteral("\u2715"));
    dismiss->setAutoRaise(true);
    dismiss->setToolTip(tr("Dismiss this message"));
    connect(dismiss, &QToolButton::clicked, session_, &StudySession::dismissNotice);
    auto* row = new QHBoxLayout(notice_);
    row->setContentsMargins(0, 0, 4, 0);
    row->addWidget(message_, 1);
    row->addWidget(dismiss, 0, Qt::AlignTop);
    notice_->hide();
    v->addWidget(notice_);
    grid_ = new ViewportGrid(central);
    v->addWidget(grid_, 1);
    setCentralWidget(central);
    connect(grid_, &ViewportGrid::fileDropped, this, &MainWindow::assignFile);

    buildDocks();
    buildPacs();
    buildStatusBar();
    buildActions();
    buildTools();
    connectSession();

    resize(1500, 940);
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    showSlots();
}

MainWindow::~MainWindow()
{
    shutdown();
    // The session goes while the widgets that show it are still whole.
    delete session_;
    session_ = nullptr;
}

void MainWindow::shutdown()
{
    if (session_)
        session_->shutdown();
}

void MainWindow::connectSession()
{
    StudySession* s = session_;
    connect(s, &StudySession::slotsChanged, this, &MainWindow::showSlots);
    connect(s, &StudySession::studyChanged, this, &MainWindow::showStudy);
    connect(s, &StudySession::resultChanged, this, &MainWindow::showResult);
    connect(s, &StudySession::noticeChanged, this, &MainWindow::showNotice);
    connect(s, &StudySession::busyChanged, this, &MainWindow::showBusy);
    connect(s, &StudySession::statusMessage, this, [this](const QString& text) { statusBar()->showMessage(text, 4000); });
    connect(s, &StudySession::modelLoading, this, [this](const QString& path) {
        modelLabel_->setText(tr("Loading %1\u2026").arg(QFileInfo(path).fileName()));
    });
    connect(s, &StudySession::modelLoaded, this, [this] {
        const ModelSummary& m = session_->model();
        modelLabel_->setText(tr("Model: %1").arg(QFileInfo(QString::fromStdString(m.path)).fileName()));
        modelLabel_->setToolTip(tr("SHA-256 %1").arg(QString::fromStdString(m.fingerprint)));
        deviceLabel_->setText(tr("Device: %1").arg(runsOnText()));
        prediction_->setModel(m);
        QStringList classes;
        for (const auto& c : m.classes)
            classes << QString::fromStdString(c);
        overlay_->setAttributionClasses(classes);
        showResult();
    });
    connect(s, &StudySession::modelFailed, this, [this] {
        if (!session_->hasModel())
            modelLabel_->setText(tr("No model"));
    });
    connect(s, &StudySession::inferenceFinished, this, [this] {
        if (session_->lastRunSeconds() > 0)
            timeLabel_->setText(tr("Last inference: %1 s").arg(session_->lastRunSeconds(), 0, 'f', 2));
    });
    connect(s, &StudySession::modelLoaded, this, &MainWindow::modelLoaded);
    connect(s, &StudySession::modelFailed, this, &MainWindow::modelFailed);
    connect(s, &StudySession::inferenceFinished, this, &MainWindow::inferenceFinished);
    connect(s, &StudySession::inferenceFailed, this, &MainWindow::inferenceFailed);
    connect(s, &StudySession::inferenceCancelled, this, &MainWindow::inferenceCancelled);
    connect(s, &StudySession::runRefused, this, &MainWindow::runRefused);
    connect(s, &StudySession::filesOpened, this, &MainWindow::filesOpened);
}

void MainWindow::buildDocks()
{
    auto dock = [this](const QString& title, const QString& name, QWidget* widget, Qt::DockWidgetArea area) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(widget);
        addDockWidget(area, d);
        return d;
    };
    study_ = new StudyPanel(this);
    QDockWidget* studyDock = dock(tr("Study"), QStringLiteral("studyDock"), study_, Qt::LeftDockWidgetArea);
    connect(study_, &StudyPanel::openRequested, this, [this](const QString& slot) {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open an image for %1").arg(slot));
        if (!path.isEmpty())
            assignFile(slot, path);
        focusActiveViewport();
    });
    connect(study_, &StudyPanel::clearRequested, this, &MainWindow::clearSlot);
    connect(study_, &StudyPanel::moveRequested, this, &MainWindow::moveSlot);
    connect(study_, &StudyPanel::fileDropped, this, &MainWindow::assignFile);

    tasks_ = new TaskPanel(session_->tasks(), this);
    QDockWidget* taskDock = dock(tr("Tasks"), QStringLiteral("taskDock"), tasks_, Qt::LeftDockWidgetArea);
    taskDock->hide();  // View › Tasks; the status bar shows the running one

    prediction_ = new PredictionPanel(this);
    // In a scroll area: on a short screen the charts scroll instead of overlapping.
    auto* predictionScroll = new QScrollArea(this);
    predictionScroll->setWidget(prediction_);
    predictionScroll->setWidgetResizable(true);
    predictionScroll->setFrameShape(QFrame::NoFrame);
    predictionScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    QDockWidget* predictionDock = dock(tr("Prediction"), QStringLiteral("predictionDock"), predictionScroll, Qt::RightDockWidgetArea);

    overlay_ = new OverlayPanel(this);
    dock(tr("Heat map"), QStringLiteral("overlayDock"), overlay_, Qt::RightDockWidgetArea);
    connect(overlay_, &OverlayPanel::settingsChanged, this, &MainWindow::applyOverlay);
    connect(overlay_, &OverlayPanel::targetChanged, this, [this](const QString& target) {
        // One viewport is offered only the maps it has (no "[INT] from" itself).
        Viewport* v = target.isEmpty() ? nullptr : grid_->viewport(target);
        const QStringList kinds = mapKindsFor(target);
        if (!kinds.isEmpty())
            overlay_->setMapKinds(kinds);
        OverlaySettings s = v ? v->overlaySettings() : overlaySettings_;
        if (v && !kinds.isEmpty() && !kinds.contains(s.kind)) {
            s.kind = kinds.first();
            v->setOverlaySettings(s);
        }
        overlay_->setSettings(s);
    });
    connect(overlay_, &OverlayPanel::attributionRequested, this, [this](int target, int steps, const QString& baseline) {
        session_->computeAttribution(target, steps, baseline);
    });
    connect(session_, &StudySession::attributionFinished, this, [this] {
        OverlaySettings s = overlaySettings_;  // show what was asked for, everywhere
        s.kind = QStringLiteral("ig");
        s.visible = true;
        applyOverlay(QString(), s);
        overlay_->setSettings(s);
    });
    connect(overlay_, &OverlayPanel::linkedChanged, this, [this](bool on) {
        grid_->setLinked(on);
        if (linkAction_)
            linkAction_->setChecked(on);
    });
    resizeDocks({studyDock}, {330}, Qt::Horizontal);
    resizeDocks({predictionDock}, {400}, Qt::Horizontal);
}

void MainWindow::buildStatusBar()
{
    // Read-out, the running task (shown after a delay, with Cancel), model, device, time.
    readOut_ = new QLabel(this);
    statusBar()->addWidget(readOut_, 1);
    connect(grid_, &ViewportGrid::pixelReadOut, readOut_, &QLabel::setText);
    stage_ = new QLabel(this);
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setMaximumWidth(220);
    progress_->setTextVisible(false);
    cancel_ = new QPushButton(tr("Cancel"), this);
    const std::array<QWidget*, 3> taskWidgets{stage_, progress_, cancel_};
    for (QWidget* w : taskWidgets) {
        statusBar()->addPermanentWidget(w);
        w->hide();
    }
    progressDelay_ = new QTimer(this);
    progressDelay_->setSingleShot(true);
    TaskList* tasks = session_->tasks();
    // The newest task the task list shows (one that has run for TaskList::showAfterMs).
    const auto showTask = [this, tasks, taskWidgets] {
        qint64 recheckIn = -1;
        const auto shown = tasks->shownTasks(QDateTime::currentMSecsSinceEpoch(), &recheckIn);
        const JobStatus* newest = nullptr;
        for (const JobStatus& s : shown)
            if (!s.isFinished())
                newest = &s;  // active ones come first, oldest first
        for (QWidget* w : taskWidgets)
            w->setVisible(newest != nullptr);
        if (newest) {
            progress_->setValue(int(newest->fraction * 1000));
            stage_->setText(newest->message.isEmpty() ? newest->title : newest->title + QStringLiteral(": ") + newest->message);
            cancel_->setProperty("ticket", newest->ticket);
        }
        if (recheckIn >= 0)
            progressDelay_->start(int(recheckIn) + 1);
    };
    connect(tasks, &TaskList::changed, this, showTask);
    connect(progressDelay_, &QTimer::timeout, this, showTask);
    connect(cancel_, &QPushButton::clicked, this, [this, tasks] { tasks->cancel(cancel_->property("ticket").toULongLong()); });
    deviceLabel_ = new QLabel(this);
    modelLabel_ = new QLabel(tr("No model"), this);
    timeLabel_ = new QLabel(this);
    statusBar()->addPermanentWidget(modelLabel_);
    statusBar()->addPermanentWidget(deviceLabel_);
    statusBar()->addPermanentWidget(timeLabel_);
}

// ---- forwarded actions -----------------------------------------------------------------

void MainWindow::openModel(const QString& path) { session_->openModel(path); }
quint64 MainWindow::openFiles(const QStringList& paths) { return session_->openFiles(paths); }
quint64 MainWindow::openStudyFolder(const QString& dir) { return session_->openStudyFolder(dir); }
quint64 MainWindow::assignFile(const QString& slot, const QString& path) { return session_->assignFile(slot, path); }
void MainWindow::clearSlot(const QString& slot) { session_->clearSlot(slot); }
void MainWindow::moveSlot(const QString& from, const QString& to) { session_->moveSlot(from, to); }
bool MainWindow::runInference() { return session_->run(); }
void MainWindow::cancelInference() { session_->cancelRun(); }
bool MainWindow::isRunning() const { return session_->isRunning(); }
void MainWindow::setRunWhenReady(bool on) { session_->setRunWhenReady(on); }
std::shared_ptr<const InferenceResult> MainWindow::currentResult() const { return session_->result(); }
const ModelSummary& MainWindow::model() const { return session_->model(); }
QString MainWindow::resolvedDevice() const { return session_->resolvedDevice(); }
QStringList MainWindow::slotNames() const { return session_->slotNames(); }
std::shared_ptr<const Image> MainWindow::slotImage(const QString& slot) const { return session_->slotImage(slot); }
int MainWindow::cacheSize() const { return session_->cacheSize(); }

void MainWindow::setDevice(const QString& device)
{
    const int i = deviceBox_->findData(device);
    if (i >= 0)
        deviceBox_->setCurrentIndex(i);
    session_->setDevice(device);
}

void MainWindow::setPrecision(const QString& precision)
{
    const int i = precisionBox_->findData(precision);
    if (i >= 0)
        precisionBox_->setCurrentIndex(i);
    session_->setPrecision(precision);
}

QString MainWindow::runsOnText() const
{
    if (!session_->hasModel())
        return QString();
    return tr("%1, %2").arg(session_->resolvedDevice().toUpper(), session_->resolvedPrecision());
}

// ---- showing the session -----------------------------------------------------------------

void MainWindow::showSlots()
{
    const QStringList names = session_->slotNames();
    grid_->setSlots(names);
    overlay_->setTargets(names);
    for (Viewport* v : grid_->viewports())
        v->setOverlaySettings(overlaySettings_);
    showStudy();
    showResult();
}

void MainWindow::showStudy()
{
    // Which study this is, at a glance (on screen only; never logged).
    const QString source = session_->currentStudySource();
    const QStringList names = session_->slotNames();
    const bool any = std::any_of(names.begin(), names.end(), [this](const QString& n) { return session_->slotImage(n) != nullptr; });
    setWindowTitle(any && !source.isEmpty() ? tr("%1 \u2014 EIView").arg(QFileInfo(source).fileName()) : QStringLiteral("EIView"));
    QVector<StudyPanel::Slot> view;
    for (const QString& name : session_->slotNames()) {
        const auto image = session_->slotImage(name);
        view.push_back({name, session_->slotKind(name), image, session_->slotPath(name)});
        for (Viewport* v : grid_->viewports())  // a slot may show in several planes
            if (v->slotName() == name && v->sourceImage() != image.get()) {
                v->setImage(image);
                v->setMask(session_->mask(name));
            }
    }
    study_->setSlots(view);
}

void MainWindow::showResult()
{
    const auto result = session_->result();
    for (Viewport* v : grid_->viewports())
        v->setResult(result);
    const QStringList kinds = mapKindsFor(QString());
    if (!kinds.isEmpty()) {
        overlay_->setMapKinds(mapKindsFor(overlay_->target()));
        if (!kinds.contains(overlaySettings_.kind)) {
            overlaySettings_.kind = kinds.first();
            applyOverlay(QString(), overlaySettings_);
        }
    }
    const auto* a = result ? result->attribution.get() : nullptr;
    overlay_->setAttributionState(result && !session_->isRunning(),
                                  a ? tr("Shown: %1, %2 steps from a %3 baseline. Attributions sum to %4 against a score "
                                         "change of %5 (completeness gap %6).")
                                          .arg(QString::fromStdString(a->target))
                                          .arg(a->steps)
                                          .arg(a->baseline == "blur" ? tr("blurred") : tr("black"))
                                          .arg(a->total, 0, 'g', 3)
                                          .arg(a->scoreInput - a->scoreBaseline, 0, 'g', 3)
                                          .arg(a->gap, 0, 'g', 2) +
                                          (a->converged() ? QString()
                                                          : tr(" <b>The check is off: the attributions are not reliable; "
                                                               "compute again with more steps.</b>"))
                                    : QString());
    if (result) {
        prediction_->setResult(result);
    } else {
        prediction_->clearResult();
        timeLabel_->clear();  // the last run's time was another study's
    }
}

QStringList MainWindow::mapKindsFor(const QString& target) const
{
    QStringList kinds;
    for (Viewport* v : grid_->viewports())
        if (target.isEmpty() || v->slotName() == target)
            for (const QString& k : v->availableMapKinds())
                if (!kinds.contains(k))
                    kinds << k;
    return kinds;
}

QString MainWindow::messageText() const { return notice_->isHidden() ? QString() : message_->text(); }

void MainWindow::showNotice()
{
    const QString text = session_->notice();
    if (text.isEmpty()) {
        message_->clear();
        notice_->hide();
        return;
    }
    notice_->setProperty("warning", session_->noticeIsWarning());
    for (QWidget* w : {static_cast<QWidget*>(notice_), static_cast<QWidget*>(message_)})
        w->style()->polish(w);
    message_->setText(text);
    notice_->show();
}

void MainWindow::showBusy(bool busy)
{
    runAction_->setEnabled(!busy);
    cancelAction_->setEnabled(busy);
    overlay_->setAttributionState(!busy && session_->result(), overlay_->attributionStatus());
}

void MainWindow::applyOverlay(const QString& target, const OverlaySettings& settings)
{
    const auto shownBefore = shownMapKinds();
    if (target.isEmpty()) {
        overlaySettings_ = settings;
        for (Viewport* v : grid_->viewports())
            v->setOverlaySettings(settings);
    } else {
        for (Viewport* v : grid_->viewports())
            if (v->slotName() == target)
                v->setOverlaySettings(settings);
    }
    overlayAction_->setChecked(settings.visible);
    if (overlay_->target() == target)
        overlay_->setSettings(settings);
    refreshMapReadouts(shownBefore);
}

void MainWindow::refreshMapReadouts(const std::map<QString, QString>& shownBefore)
{
    // The measurements' map statistics and the map-vs-mask read-out depend on which map
    // each viewport shows, not on opacity, colours or threshold: recomputed only when that
    // changed (not on every tick of a slider).
    if (measurementPanel_ && shownMapKinds() != shownBefore) {
        showMeasurements();
        showMaskReadout();
    }
}

void MainWindow::setOverlayVisible(bool visible)
{
    overlaySettings_.visible = visible;
    for (Viewport* v : grid_->viewports()) {
        OverlaySettings s = v->overlaySettings();
        s.visible = visible;
        v->setOverlaySettings(s);
    }
    overlayAction_->setChecked(visible);
    overlay_->setVisibleChecked(visible);
}

void MainWindow::toggleOverlay() { setOverlayVisible(!overlaySettings_.visible); }

bool MainWindow::exportTo(const QString& pngPath, const QString& jsonPath, bool includePatientIdentifiers, QString* error,
                          const QString& pdfPath)
{
    try {
        QByteArray png, pdf;
        if (const auto result = session_->result()) {
            QBuffer buffer(&png);
            buffer.open(QIODevice::WriteOnly);
            composeExportImage(grid_, *result, session_->model()).save(&buffer, "PNG");
            if (!pdfPath.isEmpty())
                pdf = renderPdfReport(grid_, *result, session_->model(), reportSections());
        }
        session_->exportResult(png, pngPath, jsonPath, includePatientIdentifiers, pdf, pdfPath, shownMapKinds());
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    statusBar()->showMessage(tr("Exported %1 and %2").arg(QFileInfo(pngPath).fileName(), QFileInfo(jsonPath).fileName()), 5000);
    return true;
}

// ---- window events ----------------------------------------------------------------------

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    shutdown();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    QStringList paths;
    for (const QUrl& u : event->mimeData()->urls())
        if (u.isLocalFile())
            paths << u.toLocalFile();
    if (paths.isEmpty())
        return;
    event->acceptProposedAction();
    if (paths.size() == 1 && paths.first().endsWith(QLatin1String(".eimodel"), Qt::CaseInsensitive))
        openModel(paths.first());
    else if (paths.size() == 1 && QFileInfo(paths.first()).isDir())
        openStudyFolder(paths.first());  // a folder is a study: it replaces the current one
    else
        openFiles(paths);
}

}  // namespace ei
