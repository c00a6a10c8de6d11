// See MainWindow.h.
#include "ui/window/MainWindow.h"

#include "core/report/ExportReport.h"
#include "core/io/ImageLoader.h"
#include "core/inference/InferenceJob.h"
#include "core/study/SlotAssignment.h"
#include "models/Error.h"
#include "ui/window/AboutDialog.h"
#include "ui/wizard/FineTuneWizard.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/panels/StudyPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/window/ViewerResources.h"
#include "ui/viewer/ViewportGrid.h"
#include "ui/viewer/WindowPresets.h"


#include <QAction>
#include <QApplication>
#include <QBuffer>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace ei {

namespace {
constexpr int kProgressDelayMs = 300;  // quick runs never flash a progress bar
constexpr int kMaxRecent = 8;

bool isImageFileName(const QString& name)
{
    static const QStringList skip{QStringLiteral("json"), QStringLiteral("txt"), QStringLiteral("md"),
                                  QStringLiteral("csv"), QStringLiteral("eimodel"), QStringLiteral("safetensors"),
                                  QStringLiteral("py"), QStringLiteral("sh")};
    return !skip.contains(QFileInfo(name).suffix().toLower()) && !QFileInfo(name).fileName().startsWith('.');
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    ViewerResources::init();
    setWindowTitle(QStringLiteral("EIView"));
    setWindowIcon(QIcon(QStringLiteral(":/eiview/icons/eiview.svg")));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);

    job_ = new InferenceJob(this);
    connect(job_, &InferenceJob::modelReady, this, [this](quint64 ticket, const ModelSummary& s, const QString& dev) {
        if (ticket == modelTicket_)
            onModelReady(s, dev);
    });
    connect(job_, &InferenceJob::progress, this, [this](quint64 ticket, double f, const QString& stage) {
        if (ticket == runTicket_) {
            progress_->setValue(int(f * 1000));
            stage_->setText(stage);
        } else if (ticket == modelTicket_) {
            stage_->setText(stage);
        }
    });
    connect(job_, &InferenceJob::finished, this, [this](quint64 ticket, std::shared_ptr<const InferenceResult> r) {
        if (ticket != runTicket_)
            return;  // a run for a study that has since changed
        runInFlight_ = false;
        const double ms = double(QDateTime::currentMSecsSinceEpoch() - runStartedMs_);
        cache_.insert(cacheKey(), r);
        applyResult(r);
        timeLabel_->setText(tr("Last inference: %1 s").arg(ms / 1000.0, 0, 'f', 2));
        clearMessage();
        Q_EMIT inferenceFinished();
    });
    connect(job_, &InferenceJob::failed, this, [this](quint64 ticket, const QString& message) {
        if (ticket == modelTicket_) {
            showMessage(tr("Could not load the model: %1").arg(message));
            modelLabel_->setText(tr("No model"));
            Q_EMIT modelFailed(message);
        } else if (ticket == runTicket_) {
            runInFlight_ = false;
            showMessage(tr("Inference failed: %1").arg(message));
            Q_EMIT inferenceFailed(message);
        }
    });
    connect(job_, &InferenceJob::cancelled, this, [this](quint64 ticket) {
        if (ticket == runTicket_) {
            runInFlight_ = false;
            showMessage(tr("Inference cancelled."), false);
            Q_EMIT inferenceCancelled();
        }
    });
    connect(job_, &InferenceJob::busyChanged, this, &MainWindow::setBusy);

    // Central area: a notice line above the viewport grid.
    auto* central = new QWidget(this);
    auto* v = new QVBoxLayout(central);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);
    message_ = new QLabel(central);
    message_->setObjectName(QStringLiteral("notice"));
    message_->setWordWrap(true);
    message_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    message_->hide();
    v->addWidget(message_);
    grid_ = new ViewportGrid(central);
    v->addWidget(grid_, 1);
    setCentralWidget(central);
    connect(grid_, &ViewportGrid::fileDropped, this, [this](const QString& slot, const QString& path) {
        QString error;
        if (!assignFile(slot, path, &error))
            showMessage(error);
    });

    buildDocks();
    buildActions();

    // Status bar: read-out, progress (shown after a delay), device, model, time.
    readOut_ = new QLabel(this);
    statusBar()->addWidget(readOut_, 1);
    connect(grid_, &ViewportGrid::pixelReadOut, readOut_, &QLabel::setText);
    stage_ = new QLabel(this);
    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setMaximumWidth(220);
    progress_->setTextVisible(false);
    cancel_ = new QPushButton(tr("Cancel"), this);
    connect(cancel_, &QPushButton::clicked, this, &MainWindow::cancelInference);
    for (QWidget* w : {static_cast<QWidget*>(stage_), static_cast<QWidget*>(progress_), static_cast<QWidget*>(cancel_)}) {
        statusBar()->addPermanentWidget(w);
        w->hide();
    }
    progressDelay_ = new QTimer(this);
    progressDelay_->setSingleShot(true);
    connect(progressDelay_, &QTimer::timeout, this, [this] {
        if (job_->isBusy())
            for (QWidget* w : {static_cast<QWidget*>(stage_), static_cast<QWidget*>(progress_), static_cast<QWidget*>(cancel_)})
                w->show();
    });
    deviceLabel_ = new QLabel(this);
    modelLabel_ = new QLabel(tr("No model"), this);
    timeLabel_ = new QLabel(this);
    statusBar()->addPermanentWidget(modelLabel_);
    statusBar()->addPermanentWidget(deviceLabel_);
    statusBar()->addPermanentWidget(timeLabel_);

    resize(1500, 940);
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    rebuildSlots({});
}

MainWindow::~MainWindow() { shutdown(); }

void MainWindow::shutdown()
{
    if (job_)
        job_->shutdown();
}

void MainWindow::buildDocks()
{
    study_ = new StudyPanel(this);
    auto* studyDock = new QDockWidget(tr("Study"), this);
    studyDock->setObjectName(QStringLiteral("studyDock"));
    studyDock->setWidget(study_);
    addDockWidget(Qt::LeftDockWidgetArea, studyDock);
    connect(study_, &StudyPanel::openRequested, this, [this](const QString& slot) {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open an image for %1").arg(slot));
        QString error;
        if (!path.isEmpty() && !assignFile(slot, path, &error))
            showMessage(error);
    });
    connect(study_, &StudyPanel::clearRequested, this, &MainWindow::clearSlot);
    connect(study_, &StudyPanel::moveRequested, this, &MainWindow::moveSlot);
    connect(study_, &StudyPanel::fileDropped, this, [this](const QString& slot, const QString& path) {
        QString error;
        if (!assignFile(slot, path, &error))
            showMessage(error);
    });

    prediction_ = new PredictionPanel(this);
    auto* predictionDock = new QDockWidget(tr("Prediction"), this);
    predictionDock->setObjectName(QStringLiteral("predictionDock"));
    predictionDock->setWidget(prediction_);
    addDockWidget(Qt::RightDockWidgetArea, predictionDock);

    overlay_ = new OverlayPanel(this);
    auto* overlayDock = new QDockWidget(tr("Heat map"), this);
    overlayDock->setObjectName(QStringLiteral("overlayDock"));
    overlayDock->setWidget(overlay_);
    addDockWidget(Qt::RightDockWidgetArea, overlayDock);
    connect(overlay_, &OverlayPanel::settingsChanged, this, &MainWindow::applyOverlay);
    connect(overlay_, &OverlayPanel::targetChanged, this, [this](const QString& target) {
        Viewport* v = target.isEmpty() ? nullptr : grid_->viewport(target);
        overlay_->setSettings(v ? v->overlaySettings() : overlaySettings_);
    });
    connect(overlay_, &OverlayPanel::linkedChanged, this, [this](bool on) {
        grid_->setLinked(on);
        if (linkAction_)
            linkAction_->setChecked(on);
    });
    resizeDocks({studyDock}, {330}, Qt::Horizontal);
    resizeDocks({predictionDock}, {400}, Qt::Horizontal);
}

void MainWindow::buildActions()
{
    auto add = [this](QMenu* menu, const QString& text, const QKeySequence& key, auto slot) {
        auto* a = new QAction(text, this);
        if (!key.isEmpty())
            a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        menu->addAction(a);
        addAction(a);  // shortcuts work with the menu bar hidden too
        return a;
    };
    QMenu* file = menuBar()->addMenu(tr("&File"));
    add(file, tr("&Open images / folder / DICOMDIR\u2026"), QKeySequence::Open, [this] { openDialog(); });
    add(file, tr("Open &study folder\u2026"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a study folder"));
        if (!dir.isEmpty()) {
            const QStringList problems = openStudyFolder(dir);
            if (!problems.isEmpty())
                showMessage(problems.join('\n'));
        }
    });
    add(file, tr("Open &model (.eimodel)\u2026"), QKeySequence(Qt::CTRL | Qt::Key_M), [this] { openModelDialog(); });
    recentStudies_ = file->addMenu(tr("Recent studies"));
    recentModels_ = file->addMenu(tr("Recent models"));
    file->addSeparator();
    add(file, tr("&Export PNG + report\u2026"), QKeySequence(Qt::CTRL | Qt::Key_E), [this] { exportDialog(); });
    file->addSeparator();
    add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });
    rebuildRecentMenus();

    QMenu* view = menuBar()->addMenu(tr("&View"));
    viewMenu_ = view;
    auto active = [this] { return grid_->activeViewport(); };
    auto eachTarget = [this](auto fn) {
        Viewport* a = grid_->activeViewport();
        if (grid_->linked()) {
            for (Viewport* v : grid_->viewports())
                fn(v);
        } else if (a) {
            fn(a);
        }
    };
    add(view, tr("Zoom &in"), QKeySequence(Qt::Key_Plus), [eachTarget] { eachTarget([](Viewport* v) { v->zoomBy(1.25); }); });
    add(view, tr("Zoom &out"), QKeySequence(Qt::Key_Minus), [eachTarget] { eachTarget([](Viewport* v) { v->zoomBy(0.8); }); });
    add(view, tr("&Fit to window"), QKeySequence(Qt::Key_F), [eachTarget] { eachTarget([](Viewport* v) { v->fitToWindow(); }); });
    add(view, tr("&1:1 pixels"), QKeySequence(Qt::Key_1), [eachTarget] { eachTarget([](Viewport* v) { v->oneToOne(); }); });
    add(view, tr("&Reset window / level"), QKeySequence(Qt::Key_R), [eachTarget] { eachTarget([](Viewport* v) { v->resetWindow(); }); });
    QMenu* presets = view->addMenu(tr("Window presets"));
    connect(presets, &QMenu::aboutToShow, this, [this, presets, active] {
        presets->clear();
        Viewport* v = active();
        if (!v || !v->image())
            return;
        int n = 0;
        for (const auto& p : WindowPresets::bundled().forModality(QString::fromStdString(v->image()->tags.modality))) {
            QAction* a = presets->addAction(p.name);
            if (n < 9)
                a->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + n)));
            ++n;
            connect(a, &QAction::triggered, this, [v, p] {
                const auto [c, w] = WindowPresets::windowFor(p, *v->image());
                v->setWindow(c, w);
            });
        }
    });
    view->addSeparator();
    overlayAction_ = add(view, tr("Show heat &map"), QKeySequence(Qt::Key_O), [this] { toggleOverlay(); });
    overlayAction_->setCheckable(true);
    overlayAction_->setChecked(true);
    add(view, tr("Next map kind"), QKeySequence(Qt::Key_M), [this] {
        if (!result_)
            return;
        QStringList kinds;
        for (Viewport* v : grid_->viewports())
            for (const QString& k : v->availableMapKinds())
                if (!kinds.contains(k))
                    kinds << k;
        if (kinds.isEmpty())
            return;
        OverlaySettings s = overlaySettings_;
        s.kind = kinds[(kinds.indexOf(s.kind) + 1) % kinds.size()];
        applyOverlay(QString(), s);
    });
    add(view, tr("Patch &grid"), QKeySequence(Qt::Key_G), [this] {
        OverlaySettings s = overlaySettings_;
        s.showGrid = !s.showGrid;
        applyOverlay(QString(), s);
    });
    linkAction_ = add(view, tr("&Link zoom / pan"), QKeySequence(Qt::Key_L), [this] {
        grid_->setLinked(linkAction_->isChecked());
    });
    linkAction_->setCheckable(true);
    QAction* annotations = add(view, tr("&Annotations (text, colour bar)"), QKeySequence(Qt::Key_I), [this] {
        for (Viewport* v : grid_->viewports())
            v->setAnnotationsVisible(!v->annotationsVisible());
    });
    Q_UNUSED(annotations);
    view->addSeparator();
    add(view, tr("Next slice"), QKeySequence(Qt::Key_Down), [active] { if (auto* v = active()) v->setSlice(v->slice() + 1); });
    add(view, tr("Previous slice"), QKeySequence(Qt::Key_Up), [active] { if (auto* v = active()) v->setSlice(v->slice() - 1); });
    add(view, tr("Next slice the model saw"), QKeySequence(Qt::Key_PageDown), [active] { if (auto* v = active()) v->stepToModelSlice(+1); });
    add(view, tr("Previous slice the model saw"), QKeySequence(Qt::Key_PageUp), [active] { if (auto* v = active()) v->stepToModelSlice(-1); });
    add(view, tr("Next viewport"), QKeySequence(Qt::Key_Tab | Qt::CTRL), [this] {
        const auto& vs = grid_->viewports();
        if (!vs.isEmpty())
            grid_->setActiveViewport(vs[(vs.indexOf(grid_->activeViewport()) + 1) % vs.size()]);
    });

    QMenu* model = menuBar()->addMenu(tr("&Model"));
    runAction_ = add(model, tr("&Run"), QKeySequence(Qt::Key_F5), [this] { runInference(); });
    cancelAction_ = add(model, tr("&Cancel run"), QKeySequence(Qt::Key_Escape), [this] { cancelInference(); });
    cancelAction_->setEnabled(false);
    QAction* auxAction = add(model, tr("Show &auxiliary heads"), QKeySequence(Qt::Key_A), [this] {
        prediction_->setShowAuxiliary(!prediction_->showAuxiliary());
    });
    Q_UNUSED(auxAction);
    model->addSeparator();
    add(model, tr("&Fine-tune on a data set\u2026"), QKeySequence(Qt::CTRL | Qt::Key_T), [this] {
        auto* wizard = new FineTuneWizard(this);
        wizard->setAttribute(Qt::WA_DeleteOnClose);
        connect(wizard, &FineTuneWizard::openModelRequested, this, &MainWindow::openModel);
        wizard->show();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    add(help, tr("&Keyboard and mouse"), QKeySequence(Qt::Key_F1), [this] { showShortcuts(); });
    add(help, tr("&About EIView"), QKeySequence(), [this] {
        AboutDialog dialog(this);
        if (!model_.path.empty())
            dialog.setModel(QFileInfo(QString::fromStdString(model_.path)).fileName(), QString::fromStdString(model_.intendedUse));
        dialog.exec();
    });

    auto* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    QAction* openA = bar->addAction(tr("Open\u2026"), this, [this] { openDialog(); });
    openA->setToolTip(tr("Open images, a folder or a DICOMDIR (Ctrl+O)"));
    bar->addAction(tr("Model\u2026"), this, [this] { openModelDialog(); })->setToolTip(tr("Open a model (Ctrl+M)"));
    bar->addSeparator();
    bar->addWidget(new QLabel(tr(" Device "), bar));
    deviceBox_ = new QComboBox(bar);
    for (const QString& d : InferenceJob::availableDevices())
        deviceBox_->addItem(d == QLatin1String("auto") ? tr("Auto") : d.toUpper(), d);
    connect(deviceBox_, &QComboBox::activated, this, [this](int i) { setDevice(deviceBox_->itemData(i).toString()); });
    bar->addWidget(deviceBox_);
    bar->addAction(runAction_);
    runAction_->setToolTip(tr("Run the model on this study (F5)"));
    bar->addAction(cancelAction_);
    bar->addSeparator();
    bar->addAction(overlayAction_);
    bar->addAction(linkAction_);
    bar->addSeparator();
    bar->addAction(tr("Export\u2026"), this, [this] { exportDialog(); })->setToolTip(tr("Export PNG + JSON report (Ctrl+E)"));

    view->addSeparator();
    for (QDockWidget* d : findChildren<QDockWidget*>())
        view->addAction(d->toggleViewAction());
}

// ---- model -------------------------------------------------------------------------

void MainWindow::openModel(const QString& path)
{
    modelPath_ = path;
    modelLabel_->setText(tr("Loading %1\u2026").arg(QFileInfo(path).fileName()));
    modelTicket_ = job_->loadModel(path, device_);
}

void MainWindow::setDevice(const QString& device)
{
    device_ = device;
    const int i = deviceBox_->findData(device);
    if (i >= 0)
        deviceBox_->setCurrentIndex(i);
    if (!modelPath_.isEmpty())
        openModel(modelPath_);
}

void MainWindow::onModelReady(const ModelSummary& summary, const QString& device)
{
    const bool sameModel = model_.fingerprint == summary.fingerprint && !model_.path.empty();
    model_ = summary;
    resolvedDevice_ = device;
    addRecent(QStringLiteral("recent/models"), QString::fromStdString(summary.path));
    modelLabel_->setText(tr("Model: %1").arg(QFileInfo(QString::fromStdString(summary.path)).fileName()));
    modelLabel_->setToolTip(tr("SHA-256 %1").arg(QString::fromStdString(summary.fingerprint)));
    deviceLabel_->setText(tr("Device: %1").arg(device.toUpper()));
    prediction_->setModel(summary);
    result_.reset();
    if (!sameModel) {
        QVector<Slot> wanted;
        for (const auto& m : summary.modalities)
            wanted.push_back({QString::fromStdString(m.name), QString::fromStdString(m.kind), nullptr, {}});
        rebuildSlots(wanted);
    } else {
        applyResult(nullptr);
    }
    Q_EMIT modelLoaded();
    maybeAutoRun();
}

// ---- study -------------------------------------------------------------------------

QStringList MainWindow::slotNames() const
{
    QStringList names;
    for (const auto& s : slots_)
        names << s.name;
    return names;
}

std::shared_ptr<const Image> MainWindow::slotImage(const QString& slot) const
{
    for (const auto& s : slots_)
        if (s.name == slot)
            return s.image;
    return nullptr;
}

void MainWindow::rebuildSlots(const QVector<Slot>& wanted)
{
    QVector<Slot> images;
    for (const auto& s : slots_)
        if (s.image)
            images.push_back(s);
    slots_ = wanted;
    QStringList names = slotNames();
    grid_->setSlots(names);
    overlay_->setTargets(names);
    for (Viewport* v : grid_->viewports())
        v->setOverlaySettings(overlaySettings_);
    placeImages(images);
    applyResult(nullptr);
}

int MainWindow::slotScore(const Slot& slot, const Image& image, const QString& path)
{
    // Higher is better; below 0 means "never". The file name naming the slot wins over
    // tags (the user named it), then DICOM modality and MR plane rules.
    const bool volumeSlot = slot.kind == QLatin1String("volume");
    if (volumeSlot != image.isVolume())
        return -1;
    int score = 1;
    const QString name = slot.name.toUpper();
    const QString base = QFileInfo(path).completeBaseName().toUpper();
    if (base.contains(name))
        score += 20;
    // The loaders' rules (resources/presets/slot_rules.json): DICOM modality, MR plane.
    const std::string byTags = SlotAssignment::defaults().slotFor(image, {slot.name.toStdString()});
    if (!byTags.empty() && QString::fromStdString(byTags).compare(slot.name, Qt::CaseInsensitive) == 0)
        score += 10;
    return score;
}

void MainWindow::placeImages(QVector<Slot> images)
{
    QStringList unplaced;
    for (const auto& img : images) {
        int best = -1, bestScore = 0;
        for (int i = 0; i < slots_.size(); ++i) {
            if (slots_[i].image)
                continue;
            const int sc = slotScore(slots_[i], *img.image, img.path);
            if (sc > bestScore) {
                best = i;
                bestScore = sc;
            }
        }
        if (best < 0 && model_.path.empty()) {  // no model yet: one slot per image
            slots_.push_back({QStringLiteral("Image %1").arg(slots_.size() + 1),
                              img.image->isVolume() ? QStringLiteral("volume") : QStringLiteral("image"), nullptr, {}});
            grid_->setSlots(slotNames());
            overlay_->setTargets(slotNames());
            best = slots_.size() - 1;
        }
        if (best < 0) {
            unplaced << QFileInfo(img.path).fileName();
            continue;
        }
        slots_[best].image = img.image;
        slots_[best].path = img.path;
    }
    refreshStudy();
    if (!unplaced.isEmpty())
        showMessage(tr("No free slot fits %1; drop it onto a slot to replace that slot's image.").arg(unplaced.join(", ")));
}

void MainWindow::refreshStudy()
{
    QVector<StudyPanel::Slot> view;
    for (const auto& s : slots_) {
        view.push_back({s.name, s.kind, s.image, s.path});
        if (Viewport* v = grid_->viewport(s.name)) {
            if (v->image() != s.image.get()) {
                v->setImage(s.image);
                v->setResult(result_);
            }
        }
    }
    study_->setSlots(view);
}

QStringList MainWindow::openFiles(const QStringList& paths)
{
    QStringList problems;
    QVector<Slot> loaded;
    for (const QString& path : paths) {
        try {
            const std::string p = path.toStdString();
            std::vector<DicomSeriesEntry> series;
            if (QFileInfo(path).isDir() || isDicomDirFile(p))
                series = listSeries(p);
            if (series.size() > 1) {
                for (const auto& s : series) {
                    auto im = std::make_shared<Image>(loadImage(p, s.seriesUid));
                    loaded.push_back({{}, {}, im, path});
                }
            } else {
                loaded.push_back({{}, {}, std::make_shared<Image>(loadImage(p)), path});
            }
        } catch (const std::exception& e) {
            problems << QString::fromStdString(e.what());
        }
    }
    if (!loaded.isEmpty()) {
        result_.reset();
        placeImages(loaded);
        applyResult(cache_.find(cacheKey()));
        for (const QString& p : paths)
            addRecent(QStringLiteral("recent/studies"), p);
    }
    if (!problems.isEmpty())
        showMessage(tr("Could not open:\n%1").arg(problems.join('\n')));
    else
        maybeAutoRun();
    return problems;
}

QStringList MainWindow::openStudyFolder(const QString& dir)
{
    const QDir d(dir);
    QStringList paths;
    bool hasDicomFiles = false;
    for (const QFileInfo& fi : d.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (fi.isDir() || isImageFileName(fi.fileName())) {
            if (fi.isFile() && fi.fileName().toUpper() == QLatin1String("DICOMDIR"))
                return openFiles({fi.absoluteFilePath()});
            if (fi.isFile() && (fi.suffix().toLower() == QLatin1String("dcm") || fi.suffix().isEmpty()))
                hasDicomFiles = true;
            paths << fi.absoluteFilePath();
        }
    }
    if (hasDicomFiles && !listSeries(dir.toStdString()).empty())
        return openFiles({dir});  // the folder is a series (or several)
    addRecent(QStringLiteral("recent/studies"), dir);
    return openFiles(paths);
}

bool MainWindow::assignFile(const QString& slot, const QString& path, QString* error)
{
    int index = -1;
    for (int i = 0; i < slots_.size(); ++i)
        if (slots_[i].name == slot)
            index = i;
    try {
        if (index < 0)
            throw UsageError("no slot named " + slot.toStdString());
        auto im = std::make_shared<Image>(loadImage(path.toStdString()));
        if ((slots_[index].kind == QLatin1String("volume")) != im->isVolume())
            throw BadInputError(path.toStdString(), slots_[index].kind == QLatin1String("volume")
                                                        ? "slot " + slot.toStdString() + " needs a volume, this is a 2-D image"
                                                        : "slot " + slot.toStdString() + " needs a 2-D image, this is a volume");
        slots_[index].image = im;
        slots_[index].path = path;
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    result_.reset();
    refreshStudy();
    applyResult(cache_.find(cacheKey()));
    addRecent(QStringLiteral("recent/studies"), path);
    clearMessage();
    maybeAutoRun();
    return true;
}

void MainWindow::clearSlot(const QString& slot)
{
    for (auto& s : slots_)
        if (s.name == slot) {
            s.image.reset();
            s.path.clear();
        }
    result_.reset();
    refreshStudy();
    applyResult(nullptr);
}

void MainWindow::moveSlot(const QString& from, const QString& to)
{
    int a = -1, b = -1;
    for (int i = 0; i < slots_.size(); ++i) {
        if (slots_[i].name == from)
            a = i;
        if (slots_[i].name == to)
            b = i;
    }
    if (a < 0 || b < 0 || a == b)
        return;
    std::swap(slots_[a].image, slots_[b].image);
    std::swap(slots_[a].path, slots_[b].path);
    result_.reset();
    refreshStudy();
    applyResult(cache_.find(cacheKey()));
}

// ---- running -------------------------------------------------------------------------

std::string MainWindow::cacheKey() const
{
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& s : slots_)
        files.emplace_back(s.name.toStdString(), s.path.toStdString());
    return ResultCache::key(files, model_.fingerprint, resolvedDevice_.toStdString());
}

bool MainWindow::runInference()
{
    QString reason;
    if (model_.path.empty())
        reason = tr("No model is loaded: open a model (.eimodel) first (Ctrl+M).");
    QStringList empty;
    for (const auto& s : slots_)
        if (!s.image)
            empty << s.name;
    if (reason.isEmpty() && !empty.isEmpty())
        reason = tr("Cannot run: slot %1 %2 empty. The model needs one image per modality: drop a file onto the slot or "
                    "use File \u203a Open.")
                     .arg(empty.join(QStringLiteral(", ")), empty.size() == 1 ? tr("is") : tr("are"));
    if (reason.isEmpty() && runInFlight_)
        reason = tr("A run is in progress.");
    if (!reason.isEmpty()) {
        showMessage(reason);
        Q_EMIT runRefused(reason);
        return false;
    }
    if (auto cached = cache_.find(cacheKey())) {
        applyResult(cached);
        statusBar()->showMessage(tr("Result from the cache (same files, model and device)."), 4000);
        Q_EMIT inferenceFinished();
        return true;
    }
    std::map<std::string, Image> inputs;
    for (const auto& s : slots_)
        inputs.emplace(s.name.toStdString(), *s.image);
    clearMessage();
    runStartedMs_ = QDateTime::currentMSecsSinceEpoch();
    progress_->setValue(0);
    stage_->setText(tr("starting"));
    runTicket_ = job_->run(std::move(inputs), true);
    runInFlight_ = true;
    progressDelay_->start(kProgressDelayMs);
    return true;
}

void MainWindow::cancelInference()
{
    if (job_->isBusy())
        job_->cancel();
}

bool MainWindow::isRunning() const { return runInFlight_; }

void MainWindow::setRunWhenReady(bool on)
{
    runWhenReady_ = on;
    maybeAutoRun();
}

void MainWindow::maybeAutoRun()
{
    if (!runWhenReady_ || model_.path.empty() || slots_.isEmpty())
        return;
    runWhenReady_ = false;  // one attempt: an empty slot is reported, not waited for
    runInference();
}

void MainWindow::setBusy(bool busy)
{
    runAction_->setEnabled(!busy);
    cancelAction_->setEnabled(busy);
    if (!busy) {
        progressDelay_->stop();
        for (QWidget* w : {static_cast<QWidget*>(stage_), static_cast<QWidget*>(progress_), static_cast<QWidget*>(cancel_)})
            w->hide();
    } else if (!progressDelay_->isActive()) {
        progressDelay_->start(kProgressDelayMs);
    }
}

void MainWindow::applyResult(std::shared_ptr<const InferenceResult> result)
{
    result_ = std::move(result);
    QStringList kinds;
    for (Viewport* v : grid_->viewports()) {
        v->setResult(result_);
        for (const QString& k : v->availableMapKinds())
            if (!kinds.contains(k))
                kinds << k;
    }
    if (!kinds.isEmpty()) {
        overlay_->setMapKinds(kinds);
        if (!kinds.contains(overlaySettings_.kind)) {
            overlaySettings_.kind = kinds.first();
            applyOverlay(QString(), overlaySettings_);
        }
    }
    if (result_)
        prediction_->setResult(result_);
    else
        prediction_->clearResult();
}

void MainWindow::applyOverlay(const QString& target, const OverlaySettings& settings)
{
    if (target.isEmpty()) {
        overlaySettings_ = settings;
        for (Viewport* v : grid_->viewports())
            v->setOverlaySettings(settings);
    } else if (Viewport* v = grid_->viewport(target)) {
        v->setOverlaySettings(settings);
    }
    overlayAction_->setChecked(settings.visible);
    if (overlay_->target() == target)
        overlay_->setSettings(settings);
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

// ---- export --------------------------------------------------------------------------

bool MainWindow::exportTo(const QString& pngPath, const QString& jsonPath, bool includePatientIdentifiers, QString* error)
{
    try {
        if (!result_)
            throw UsageError("nothing to export: run the model first (F5)");
        QByteArray png;
        QBuffer buffer(&png);
        buffer.open(QIODevice::WriteOnly);
        if (!grid_->render().save(&buffer, "PNG"))
            throw BadInputError(pngPath.toStdString(), "could not encode the PNG");
        ExportReport report(*result_, model_);
        for (const auto& s : slots_)
            report.addInput({s.name.toStdString(), s.path.toStdString(), s.image.get()});
        ExportReport::writePng(pngPath.toStdString(), png.toStdString());
        report.writeJson(jsonPath.toStdString(), includePatientIdentifiers);
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    statusBar()->showMessage(tr("Exported %1 and %2").arg(QFileInfo(pngPath).fileName(), QFileInfo(jsonPath).fileName()), 5000);
    return true;
}

void MainWindow::exportDialog()
{
    if (!result_) {
        showMessage(tr("Nothing to export yet: run the model first (F5)."));
        return;
    }
    QDialog dialog(this);
    dialog.setWindowTitle(tr("Export"));
    auto* form = new QFormLayout(&dialog);
    auto* path = new QLineEdit(QDir::home().filePath(QStringLiteral("eiview-export.png")), &dialog);
    auto* browse = new QToolButton(&dialog);
    browse->setText(QStringLiteral("\u2026"));
    auto* row = new QHBoxLayout;
    row->addWidget(path, 1);
    row->addWidget(browse);
    form->addRow(tr("PNG file"), row);
    form->addRow(new QLabel(tr("The JSON report is written next to it (same name, .json)."), &dialog));
    auto* identifiers = new QCheckBox(tr("Include patient identifiers (name, ID, birth date, accession) in the report"), &dialog);
    form->addRow(identifiers);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, &dialog);
    form->addRow(buttons);
    connect(browse, &QToolButton::clicked, &dialog, [&] {
        const QString p = QFileDialog::getSaveFileName(&dialog, tr("Export PNG"), path->text(), tr("PNG images (*.png)"));
        if (!p.isEmpty())
            path->setText(p);
    });
    connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    if (dialog.exec() != QDialog::Accepted)
        return;
    QString png = path->text();
    if (!png.endsWith(QLatin1String(".png"), Qt::CaseInsensitive))
        png += QStringLiteral(".png");
    const QString json = png.left(png.size() - 4) + QStringLiteral(".json");
    QString error;
    if (!exportTo(png, json, identifiers->isChecked(), &error))
        showMessage(tr("Export failed: %1").arg(error));
}

// ---- dialogs, settings, drops --------------------------------------------------------

void MainWindow::openDialog()
{
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open images, a DICOMDIR or series files"), QString(),
        tr("Images (*.dcm *.png *.jpg *.jpeg *.tif *.tiff *.bmp *.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.mgz *.mgh *.npy DICOMDIR);;All files (*)"));
    if (!files.isEmpty())
        openFiles(files);
}

void MainWindow::openModelDialog()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a model"), QString(), tr("EIView models (*.eimodel);;All files (*)"));
    if (!path.isEmpty())
        openModel(path);
}

void MainWindow::showShortcuts()
{
    QString html = tr("<h3>Keyboard</h3><table cellspacing=4>");
    for (QAction* a : actions())
        if (!a->shortcut().isEmpty())
            html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                        .arg(a->shortcut().toString(QKeySequence::NativeText).toHtmlEscaped(), a->text().remove('&').toHtmlEscaped());
    html += tr("<tr><td><b>Up / Down, Home / End</b></td><td>Previous / next / first / last slice</td></tr></table>"
               "<h3>Mouse</h3><table cellspacing=4>"
               "<tr><td><b>Left drag</b></td><td>Pan</td></tr>"
               "<tr><td><b>Right drag</b></td><td>Window (left / right: width) and level (up / down)</td></tr>"
               "<tr><td><b>Wheel</b></td><td>Zoom about the cursor (2-D images); slices (volumes)</td></tr>"
               "<tr><td><b>Ctrl + wheel</b></td><td>Zoom (volumes)</td></tr>"
               "<tr><td><b>Double click</b></td><td>Fit to window</td></tr>"
               "<tr><td><b>Drop files</b></td><td>On the window: automatic slot; on a viewport or slot: that slot</td></tr></table>");
    QMessageBox box(this);
    box.setWindowTitle(tr("Keyboard and mouse"));
    box.setTextFormat(Qt::RichText);
    box.setText(html);
    box.exec();
}

void MainWindow::addRecent(const QString& key, const QString& path)
{
    QSettings settings;
    QStringList list = settings.value(key).toStringList();
    const QString abs = QFileInfo(path).absoluteFilePath();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > kMaxRecent)
        list.removeLast();
    settings.setValue(key, list);
    rebuildRecentMenus();
}

void MainWindow::rebuildRecentMenus()
{
    if (!recentStudies_)
        return;
    QSettings settings;
    recentStudies_->clear();
    for (const QString& p : settings.value(QStringLiteral("recent/studies")).toStringList())
        recentStudies_->addAction(p, this, [this, p] {
            if (QFileInfo(p).isDir())
                openStudyFolder(p);
            else
                openFiles({p});
        });
    recentModels_->clear();
    for (const QString& p : settings.value(QStringLiteral("recent/models")).toStringList())
        recentModels_->addAction(p, this, [this, p] { openModel(p); });
}

QString MainWindow::messageText() const { return message_->isVisible() || !message_->isHidden() ? message_->text() : QString(); }

void MainWindow::showMessage(const QString& text, bool warning)
{
    message_->setProperty("warning", warning);
    message_->style()->polish(message_);
    message_->setText(text);
    message_->show();
}

void MainWindow::clearMessage()
{
    message_->clear();
    message_->hide();
}

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
        openStudyFolder(paths.first());
    else
        openFiles(paths);
}

}  // namespace ei
