// MainWindow's menus, toolbar and dialogs (File, View, Model, Help; open, export,
// shortcuts). Every action forwards to a MainWindow or StudySession method.
#include "ui/window/MainWindow.h"

#include "core/inference/InferenceJob.h"
#include "core/jobs/TaskList.h"
#include "core/study/RecentItems.h"
#include "core/study/StudySession.h"
#include "core/training/FineTuneSettings.h"
#include "core/training/TrainingJob.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"
#include "ui/viewer/WindowPresets.h"
#include "ui/window/AboutDialog.h"
#include "ui/wizard/FineTuneWizard.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QToolBar>
#include <QScreen>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>

namespace ei {

namespace {

// The window presets for a viewport's image (its modality's, and the general ones).
QVector<WindowPresets::Preset> presetsFor(const Viewport* v)
{
    if (!v || !v->image())
        return {};
    return WindowPresets::bundled().forModality(QString::fromStdString(v->image()->tags.modality));
}

// Gives the keyboard back to the active viewport when a dialog is done, however it ends.
struct FocusBack {
    MainWindow* window;
    ~FocusBack() { window->focusActiveViewport(); }
};

}  // namespace

void MainWindow::focusActiveViewport()
{
    if (Viewport* v = grid_->activeViewport())
        v->setFocus(Qt::OtherFocusReason);
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
        FocusBack back{this};
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a study folder"));
        if (!dir.isEmpty() && confirmReplacingStudy())
            openStudyFolder(dir);
    });
    add(file, tr("Open &model (.eimodel)\u2026"), QKeySequence(Qt::CTRL | Qt::Key_M), [this] { openModelDialog(); });
    add(file, tr("&Close study"), QKeySequence(Qt::CTRL | Qt::Key_W), [this] { session_->closeStudy(); });
    recentStudies_ = file->addMenu(tr("Recent studies"));
    recentModels_ = file->addMenu(tr("Recent models"));
    file->addSeparator();
    add(file, tr("&Export PNG + report\u2026"), QKeySequence(Qt::CTRL | Qt::Key_E), [this] { exportDialog(); });
    add(file, tr("Send result to &PACS\u2026"), QKeySequence(), [this] { sendResultDialog(); });
    file->addSeparator();
    add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });
    connect(session_->recent(), &RecentItems::changed, this, &MainWindow::rebuildRecentMenus);
    rebuildRecentMenus();

    QMenu* view = menuBar()->addMenu(tr("&View"));
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
    // Zoom and pan follow the Link switch; these always act on every viewport.
    add(view, tr("Fit &all viewports"), QKeySequence(Qt::SHIFT | Qt::Key_F), [this] {
        for (Viewport* v : grid_->viewports())
            v->fitToWindow();
    });
    add(view, tr("Reset all &windows"), QKeySequence(Qt::SHIFT | Qt::Key_R), [this] {
        for (Viewport* v : grid_->viewports())
            v->resetWindow();
    });
    QMenu* orientation = view->addMenu(tr("&Orientation"));
    add(orientation, tr("Rotate &clockwise"), QKeySequence(Qt::Key_BracketRight), [active] { if (auto* v = active()) v->rotate(1); });
    add(orientation, tr("Rotate c&ounter-clockwise"), QKeySequence(Qt::Key_BracketLeft), [active] { if (auto* v = active()) v->rotate(-1); });
    add(orientation, tr("Flip &horizontally"), QKeySequence(Qt::Key_H), [active] { if (auto* v = active()) v->setFlipped(!v->flipped()); });
    add(orientation, tr("Flip &vertically"), QKeySequence(Qt::Key_V), [active] {
        if (auto* v = active()) {  // a vertical mirror is a horizontal one turned half way
            v->setFlipped(!v->flipped());
            v->rotate(2);
        }
    });
    add(orientation, tr("&Invert grey values"), QKeySequence(Qt::CTRL | Qt::Key_I), [active] { if (auto* v = active()) v->setInverted(!v->inverted()); });
    add(orientation, tr("&Reset orientation"), QKeySequence(Qt::CTRL | Qt::Key_0), [active] { if (auto* v = active()) v->resetOrientation(); });
    QMenu* layout = view->addMenu(tr("&Layout"));
    const std::pair<QString, ViewportGrid::Layout> layouts[] = {
        {tr("&Automatic"), ViewportGrid::Layout::Automatic},
        {tr("One &row (1 \u00d7 N)"), ViewportGrid::Layout::Row},
        {tr("One &column (N \u00d7 1)"), ViewportGrid::Layout::Column},
        {tr("&2 \u00d7 2"), ViewportGrid::Layout::TwoByTwo},
    };
    // The current layout is marked each time the menu opens.
    for (const auto& [name, kind] : layouts) {
        QAction* a = layout->addAction(name, this, [this, kind = kind] { grid_->setGridLayout(kind); });
        a->setCheckable(true);
        a->setData(static_cast<int>(kind));
    }
    connect(layout, &QMenu::aboutToShow, this, [this, layout] {
        for (QAction* a : layout->actions())
            if (a->isCheckable() && a->data().isValid())
                a->setChecked(!grid_->maximized() && a->data().toInt() == static_cast<int>(grid_->gridLayout()));
    });
    layout->addSeparator();
    add(layout, tr("&Maximise the active viewport / back"), QKeySequence(Qt::Key_Z), [this] { grid_->toggleMaximized(); });
    add(view, tr("&Cine (play the slices)"), QKeySequence(Qt::Key_C), [active] { if (auto* v = active()) v->setCine(!v->cineRunning()); });
    // Window presets act on the viewport that is active when they are triggered (menu or
    // Alt+1..9): the k-th preset for that viewport's modality. The menu lists them by name.
    QMenu* presets = view->addMenu(tr("Window presets"));
    for (int k = 0; k < 9; ++k) {
        auto* a = new QAction(tr("Window preset %1 of the active viewport's modality").arg(k + 1), this);
        a->setShortcut(QKeySequence(Qt::ALT | Qt::Key(Qt::Key_1 + k)));
        connect(a, &QAction::triggered, this, [this, k] { applyWindowPreset(k); });
        addAction(a);  // the shortcut works whether or not the menu was ever opened
        presetActions_.push_back(a);
    }
    connect(presets, &QMenu::aboutToShow, this, [this, presets] {
        presets->clear();
        const auto list = presetsFor(grid_->activeViewport());
        for (int k = 0; k < list.size(); ++k) {
            QAction* a = k < presetActions_.size() ? presetActions_[k] : nullptr;
            if (!a) {  // past Alt+9: a menu entry only
                a = new QAction(presets);
                connect(a, &QAction::triggered, this, [this, k] { applyWindowPreset(k); });
            }
            a->setText(list[k].name);
            presets->addAction(a);
        }
    });
    view->addSeparator();
    overlayAction_ = add(view, tr("Show heat &map"), QKeySequence(Qt::Key_O), [this] { toggleOverlay(); });
    overlayAction_->setCheckable(true);
    overlayAction_->setChecked(true);
    add(view, tr("Next map kind"), QKeySequence(Qt::Key_M), [this] {
        if (!session_->result())
            return;
        const QStringList kinds = mapKindsFor(QString());
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
        overlay_->setLinkedChecked(linkAction_->isChecked());  // one state, shown twice
    });
    linkAction_->setCheckable(true);
    QAction* annotations = add(view, tr("&Annotations (text, colour bar)"), QKeySequence(Qt::Key_I), [this] {
        for (Viewport* v : grid_->viewports())
            v->setAnnotationsVisible(!v->annotationsVisible());
    });
    annotations->setCheckable(true);
    annotations->setChecked(true);
    view->addSeparator();
    add(view, tr("Next slice"), QKeySequence(Qt::Key_Down), [active] { if (auto* v = active()) v->setSlice(v->slice() + 1); });
    add(view, tr("Previous slice"), QKeySequence(Qt::Key_Up), [active] { if (auto* v = active()) v->setSlice(v->slice() - 1); });
    add(view, tr("Next slice the model saw"), QKeySequence(Qt::Key_PageDown), [active] { if (auto* v = active()) v->stepToModelSlice(+1); });
    add(view, tr("Previous slice the model saw"), QKeySequence(Qt::Key_PageUp), [active] { if (auto* v = active()) v->stepToModelSlice(-1); });
    add(view, tr("Next viewport"), QKeySequence(Qt::Key_Tab | Qt::CTRL), [this] {
        const auto& vs = grid_->viewports();
        if (!vs.isEmpty())
            grid_->setActiveViewport(vs[(vs.indexOf(grid_->activeViewport()) + 1) % vs.size()]);
        focusActiveViewport();
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
        session_->tasks()->watch(wizard->job());  // training and the data-set check show in the task list too
        session_->tasks()->watch(wizard->settings()->checkJob());
        connect(wizard, &QObject::destroyed, this, [this] { focusActiveViewport(); });
        wizard->show();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    add(help, tr("&Keyboard and mouse"), QKeySequence(Qt::Key_F1), [this] { showShortcuts(); });
    add(help, tr("&About EIView"), QKeySequence(), [this] {
        FocusBack back{this};
        AboutDialog dialog(this);
        if (session_->hasModel())
            dialog.setModel(QFileInfo(QString::fromStdString(session_->model().path)).fileName(),
                            QString::fromStdString(session_->model().intendedUse), runsOnText());
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
    bar->addWidget(new QLabel(tr(" Precision "), bar));
    precisionBox_ = new QComboBox(bar);
    precisionBox_->setObjectName(QStringLiteral("precisionBox"));
    precisionBox_->setToolTip(tr("Arithmetic of the backbone passes: Auto is bf16 on a GPU and on a CPU with "
                                 "AMX, else fp32 (heads, gate and heat maps are always fp32)"));
    for (const QString& p : InferenceJob::availablePrecisions(QStringLiteral("auto")))
        precisionBox_->addItem(p == QLatin1String("auto") ? tr("Auto") : p.toUpper(), p);
    connect(precisionBox_, &QComboBox::activated, this,
            [this](int i) { setPrecision(precisionBox_->itemData(i).toString()); });
    bar->addWidget(precisionBox_);
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

void MainWindow::exportDialog()
{
    FocusBack back{this};
    if (!session_->result()) {
        QMessageBox::information(this, tr("Export"), session_->hasModel() ? tr("Nothing to export yet: run the model first (F5).")
                                                                : tr("Nothing to export yet: open a model (Ctrl+M), then run it (F5)."));
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
    auto* pdfBox = new QCheckBox(tr("Also write a one-page PDF report (same name, .pdf)"), &dialog);
    pdfBox->setChecked(true);
    form->addRow(pdfBox);
    auto* identifiers = new QCheckBox(tr("Include patient identifiers (name, ID, birth and study dates, accession, full paths) in the report"), &dialog);
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
    const QString pdf = pdfBox->isChecked() ? png.left(png.size() - 4) + QStringLiteral(".pdf") : QString();
    if (!exportTo(png, json, identifiers->isChecked(), &error, pdf))
        QMessageBox::warning(this, tr("Export failed"), error);
}

// ---- dialogs, settings, drops --------------------------------------------------------

void MainWindow::openDialog()
{
    FocusBack back{this};
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open images, a DICOMDIR or series files"), QString(),
        tr("Images (*.dcm *.png *.jpg *.jpeg *.tif *.tiff *.bmp *.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.mgz *.mgh *.npy DICOMDIR);;All files (*)"));
    if (!files.isEmpty())
        openFiles(files);
}

void MainWindow::openModelDialog()
{
    FocusBack back{this};
    const QString path = QFileDialog::getOpenFileName(this, tr("Open a model"), QString(), tr("EIView models (*.eimodel);;All files (*)"));
    if (!path.isEmpty())
        openModel(path);
}

void MainWindow::showShortcuts()
{
    FocusBack back{this};
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
    // A scrolling page that fits the screen (the list is longer than a laptop's height).
    QDialog box(this);
    box.setObjectName(QStringLiteral("shortcutsDialog"));
    box.setWindowTitle(tr("Keyboard and mouse"));
    auto* layout = new QVBoxLayout(&box);
    auto* text = new QTextBrowser(&box);
    text->setHtml(html);
    layout->addWidget(text);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, &box);
    connect(buttons, &QDialogButtonBox::rejected, &box, &QDialog::reject);
    layout->addWidget(buttons);
    const QRect screen = this->screen() ? this->screen()->availableGeometry() : QRect(0, 0, 1280, 800);
    box.resize(std::min(640, screen.width() - 40), std::min(760, screen.height() - 80));
    box.exec();
}

void MainWindow::applyWindowPreset(int k)
{
    Viewport* v = grid_->activeViewport();
    const auto list = presetsFor(v);
    if (k >= list.size())
        return;
    const auto [c, w] = WindowPresets::windowFor(list[k], *v->image());
    v->setWindow(c, w);
}

void MainWindow::rebuildRecentMenus()
{
    if (!recentStudies_)
        return;
    recentStudies_->clear();
    for (const QString& p : session_->recent()->items(RecentItems::Studies))
        recentStudies_->addAction(p, this, [this, p] {
            if (confirmReplacingStudy())
                session_->openStudy({p});
        });  // the next study
    recentModels_->clear();
    for (const QString& p : session_->recent()->items(RecentItems::Models))
        recentModels_->addAction(p, this, [this, p] { openModel(p); });
}

}  // namespace ei
