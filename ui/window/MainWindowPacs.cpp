// MainWindow's PACS parts: the Studies dock (a view of core/pacs/StudyBrowser), the node
// dialog, and File > Send result to PACS. The browser's work shows in the task list.
#include "ui/window/MainWindow.h"

#include "core/jobs/TaskList.h"
#include "core/pacs/StudyBrowser.h"
#include "core/study/StudySession.h"
#include "models/Error.h"
#include "ui/pacs/PacsNodesDialog.h"
#include "ui/pacs/StudyBrowserPanel.h"

#include <QDockWidget>
#include <QInputDialog>
#include <QMessageBox>
#include <QScopeGuard>
#include <QStatusBar>

namespace ei {

void MainWindow::buildPacs()
{
    studyBrowser_ = new StudyBrowser(loadPacsSettings(), this);
    session_->tasks()->watch(studyBrowser_->job());
    studyBrowserPanel_ = new StudyBrowserPanel(studyBrowser_, this);
    auto* dock = new QDockWidget(tr("Studies"), this);
    dock->setObjectName(QStringLiteral("studiesDock"));
    dock->setWidget(studyBrowserPanel_);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    if (auto* studyDock = findChild<QDockWidget*>(QStringLiteral("studyDock"))) {
        tabifyDockWidget(studyDock, dock);
        studyDock->raise();
    }
    connect(studyBrowserPanel_, &StudyBrowserPanel::openRequested, this, [this](const QStringList& folders) {
        if (!folders.isEmpty() && confirmReplacingStudy())
            session_->openStudy(folders);
    });
    connect(studyBrowserPanel_, &StudyBrowserPanel::nodesRequested, this, [this] {
        const PacsSettings before = studyBrowser_->settings();
        PacsNodesDialog dialog(studyBrowser_, this);
        if (dialog.exec() == QDialog::Accepted) {
            studyBrowser_->setSettings(dialog.settings());
            savePacsSettings(studyBrowser_->settings());
        } else {
            studyBrowser_->setSettings(before);  // "Test connection" tried the edits
        }
        focusActiveViewport();
    });
    connect(studyBrowser_, &StudyBrowser::resultSent, this, [this](const QString& message) {
        statusBar()->showMessage(message, 8000);
    });
}

void MainWindow::sendResultDialog()
{
    const auto focusBack = qScopeGuard([this] { focusActiveViewport(); });
    const auto result = session_->result();
    if (!result) {
        QMessageBox::information(this, tr("Send result to PACS"), tr("Nothing to send yet: run the model first (F5)."));
        return;
    }
    const auto& nodes = studyBrowser_->settings().nodes;
    if (nodes.isEmpty()) {
        QMessageBox::information(this, tr("Send result to PACS"), tr("No PACS node yet: add one in Studies > Nodes...."));
        return;
    }
    QStringList names;
    for (const auto& node : nodes)
        names << (node.name.isEmpty() ? node.address : node.name);
    bool ok = false;
    const QString chosen = QInputDialog::getItem(
        this, tr("Send result to PACS"),
        tr("The result goes into the patient's study as a DICOM SR and the heat maps as secondary captures. Send to:"), names,
        0, false, &ok);
    if (!ok)
        return;
    std::map<std::string, Image> images;
    for (const auto& slot : session_->study().slotNames())
        if (auto image = session_->study().imagePtr(slot))
            images.emplace(slot, *image);
    try {
        studyBrowser_->sendResult(static_cast<int>(names.indexOf(chosen)), result, session_->model(), std::move(images));
    } catch (const Error& e) {
        QMessageBox::warning(this, tr("Send result to PACS"), QString::fromStdString(e.what()));
    }
}

}  // namespace ei
