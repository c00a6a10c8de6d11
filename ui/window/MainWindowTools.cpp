// MainWindow's measuring tools (Tools menu, the Measurements dock) and the study
// lifecycle actions (next / previous study). The measurements live in the session
// (core/view/MeasurementList); the viewports draw them, the panel lists them.
#include "ui/window/MainWindow.h"

#include "core/study/StudySession.h"
#include "core/view/Measurement.h"
#include "ui/panels/MeasurementPanel.h"
#include "ui/panels/OverlayPanel.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"

#include <QAction>
#include <QActionGroup>
#include <QDockWidget>
#include <QFileDialog>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

namespace ei {

void MainWindow::buildTools()
{
    grid_->setMeasurements(session_->measurements());

    auto* tools = new QMenu(tr("&Tools"), this);
    const QList<QAction*> menus = menuBar()->actions();
    menuBar()->insertMenu(menus.isEmpty() ? nullptr : menus.last(), tools);  // before Help
    auto* group = new QActionGroup(this);
    const std::tuple<QString, QKeySequence, Viewport::Tool> list[] = {
        {tr("&Pan / window (no measuring)"), QKeySequence(Qt::Key_Q), Viewport::Tool::Navigate},
        {tr("&Distance"), QKeySequence(Qt::Key_D), Viewport::Tool::Distance},
        {tr("&Angle (three clicks, vertex second)"), QKeySequence(Qt::Key_N), Viewport::Tool::Angle},
        {tr("&Rectangle region"), QKeySequence(Qt::Key_B), Viewport::Tool::Rectangle},
        {tr("&Ellipse region"), QKeySequence(Qt::Key_E), Viewport::Tool::Ellipse},
        {tr("&Crosshair (links volume viewports by position)"), QKeySequence(Qt::Key_X), Viewport::Tool::Crosshair},
    };
    for (const auto& [name, key, tool] : list) {
        auto* a = tools->addAction(name);
        a->setShortcut(key);
        a->setCheckable(true);
        a->setChecked(tool == Viewport::Tool::Navigate);
        group->addAction(a);
        addAction(a);
        connect(a, &QAction::triggered, this, [this, tool = tool] { grid_->setTool(tool); });
    }
    tools->addSeparator();
    auto* hideCrosshair = tools->addAction(tr("Hide the crosshair"), this, [this] { grid_->setCrosshair(std::nullopt); });
    hideCrosshair->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_X));
    addAction(hideCrosshair);
    tools->addAction(tr("Clear all measurements"), this, [this] { session_->measurements()->clear(); });

    measurementPanel_ = new MeasurementPanel(this);
    auto* dock = new QDockWidget(tr("Measurements"), this);
    dock->setObjectName(QStringLiteral("measurementDock"));
    dock->setWidget(measurementPanel_);
    addDockWidget(Qt::RightDockWidgetArea, dock);
    // A tab beside the heat-map panel: the prediction keeps its room.
    if (auto* overlayDock = findChild<QDockWidget*>(QStringLiteral("overlayDock"))) {
        tabifyDockWidget(overlayDock, dock);
        overlayDock->raise();
    }
    tools->addAction(dock->toggleViewAction());
    connect(session_->measurements(), &MeasurementList::changed, dock, [this, dock, count = 0]() mutable {
        const int now = int(session_->measurements()->all().size());
        if (now > count)
            dock->raise();  // a new measurement: show where it is listed
        count = now;
    });
    connect(session_->measurements(), &MeasurementList::changed, this, &MainWindow::showMeasurements);
    connect(session_, &StudySession::resultChanged, this, &MainWindow::showMeasurements);
    connect(measurementPanel_, &MeasurementPanel::deleteRequested, session_->measurements(), &MeasurementList::remove);
    connect(measurementPanel_, &MeasurementPanel::clearRequested, session_->measurements(), &MeasurementList::clear);
    connect(measurementPanel_, &MeasurementPanel::selected, this, [this](int id) {
        for (const Measurement& m : session_->measurements()->all())
            if (m.id == id)
                if (Viewport* v = grid_->viewport(m.slot)) {
                    grid_->setActiveViewport(v);
                    v->setSlice(m.slice);
                }
    });

    // Ground truth.
    auto* openMaskAction = tools->addAction(tr("Open &ground-truth mask for the active viewport\u2026"));
    openMaskAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_G));
    addAction(openMaskAction);
    connect(openMaskAction, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open a label / mask image"), QString(),
            tr("Masks (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.png *.tif *.tiff *.dcm);;All files (*)"));
        if (!path.isEmpty())
            openMask(path);
        focusActiveViewport();
    });
    tools->addAction(tr("Remove the active viewport's mask"), this, [this] {
        if (Viewport* v = grid_->activeViewport())
            session_->clearMask(v->slotName());
    });
    auto* maskStyle = tools->addAction(tr("Mask: outline / fill / hidden"));
    maskStyle->setShortcut(QKeySequence(Qt::Key_K));
    addAction(maskStyle);
    connect(maskStyle, &QAction::triggered, this, [this] {
        for (Viewport* v : grid_->viewports())
            v->setMaskStyle(static_cast<Viewport::MaskStyle>((static_cast<int>(v->maskStyle()) + 1) % 3));
    });
    connect(session_, &StudySession::maskChanged, this, [this](const QString& slot) {
        for (Viewport* v : grid_->viewports())
            if (v->slotName() == slot)
                v->setMask(session_->mask(slot));
        showMaskReadout();
    });
    connect(session_, &StudySession::resultChanged, this, &MainWindow::showMaskReadout);

    // Planes of a volume.
    QMenu* view = menuBar()->actions().size() > 1 ? menuBar()->actions().at(1)->menu() : nullptr;
    if (view) {
        QMenu* planes = view->addMenu(tr("&Plane of the active volume"));
        for (Plane plane : {Plane::Stored, Plane::Axial, Plane::Coronal, Plane::Sagittal})
            planes->addAction(plane == Plane::Stored ? tr("As stored") : planeName(plane).replace(0, 1, planeName(plane)[0].toUpper()),
                              this, [this, plane] {
                                  if (Viewport* v = grid_->activeViewport())
                                      v->setPlane(plane);
                              })
                ->setCheckable(true);
        // The active viewport's plane is marked each time the menu opens.
        connect(planes, &QMenu::aboutToShow, this, [this, planes] {
            const Viewport* v = grid_->activeViewport();
            const auto actions = planes->actions();
            for (int i = 0; i < actions.size(); ++i)
                actions[i]->setChecked(v && static_cast<int>(v->plane()) == i);
        });
        auto* three = view->addAction(tr("&Three planes of the active volume / back"));
        three->setShortcut(QKeySequence(Qt::Key_3));
        addAction(three);
        connect(three, &QAction::triggered, this, [this] {
            if (!grid_->setThreePlanes(!grid_->threePlanes()))
                statusBar()->showMessage(tr("Three planes need a volume with a known geometry in the active viewport."), 4000);
            focusActiveViewport();
        });
    }

    // Study lifecycle: the next patient in one key.
    QMenu* file = menuBar()->actions().isEmpty() ? nullptr : menuBar()->actions().first()->menu();
    auto* next = new QAction(tr("&Next study"), this);
    next->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Right));
    connect(next, &QAction::triggered, this, [this] { openAdjacentStudy(+1); });
    auto* previous = new QAction(tr("&Previous study"), this);
    previous->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Left));
    connect(previous, &QAction::triggered, this, [this] { openAdjacentStudy(-1); });
    addAction(next);
    addAction(previous);
    if (file) {
        QAction* before = file->actions().size() > 4 ? file->actions().at(4) : nullptr;
        file->insertAction(before, next);
        file->insertAction(before, previous);
    }
}

quint64 MainWindow::openMask(const QString& path)
{
    Viewport* v = grid_->activeViewport();
    return v ? session_->loadMask(v->slotName(), path) : 0;
}

void MainWindow::showMaskReadout()
{
    QStringList lines;
    const auto kinds = shownMapKinds();
    for (const QString& slot : session_->slotNames()) {
        const auto k = kinds.find(slot);
        const QString text = session_->mapVsMaskText(slot, k == kinds.end() || k->second.isEmpty() ? QStringLiteral("cls") : k->second);
        if (!text.isEmpty())
            lines << text;
    }
    overlay_->setMaskReadout(lines.join('\n'));
}

std::map<QString, QString> MainWindow::shownMapKinds() const
{
    std::map<QString, QString> kinds;
    for (Viewport* v : grid_->viewports())
        kinds[v->slotName()] = v->overlaySettings().visible ? v->overlaySettings().kind : QString();
    return kinds;
}

void MainWindow::showMeasurements()
{
    QVector<QPair<int, QString>> items;
    const QStringList lines = session_->measurementLines(shownMapKinds());
    const auto& all = session_->measurements()->all();
    for (int i = 0; i < all.size() && i < lines.size(); ++i)
        items.push_back({all[i].id, lines[i]});
    measurementPanel_->setItems(items);
}

QStringList MainWindow::reportSections() const
{
    const QStringList lines = session_->measurementLines(shownMapKinds());
    if (lines.isEmpty())
        return {};
    return {tr("Measurements:\n%1").arg(lines.join('\n'))};
}

bool MainWindow::confirmReplacingStudy()
{
    if (!session_->hasUnsavedWork())
        return true;
    const auto answer = QMessageBox::question(
        this, tr("Open another study"),
        session_->isRunning() ? tr("A run is in progress. Stop it and open the other study?")
                              : tr("The result of this study has not been exported. Open the other study anyway?"),
        QMessageBox::Open | QMessageBox::Cancel, QMessageBox::Cancel);
    focusActiveViewport();
    return answer == QMessageBox::Open;
}

quint64 MainWindow::openAdjacentStudy(int direction, bool confirm)
{
    if (confirm && !confirmReplacingStudy())
        return 0;
    return session_->openAdjacentStudy(direction);
}

}  // namespace ei
