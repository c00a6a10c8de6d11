// See TaskPanel.h.
#include "ui/panels/TaskPanel.h"

#include "core/jobs/TaskList.h"

#include <QDateTime>
#include <QHeaderView>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace ei {

TaskPanel::TaskPanel(TaskList* tasks, QWidget* parent) : QWidget(parent), tasks_(tasks)
{
    tree_ = new QTreeWidget(this);
    tree_->setObjectName(QStringLiteral("taskTree"));
    tree_->setColumnCount(3);
    tree_->setHeaderLabels({tr("Task"), tr("Progress"), QString()});
    tree_->setRootIsDecorated(false);
    tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    tree_->header()->setStretchLastSection(false);
    auto* clear = new QPushButton(tr("Clear finished"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(tree_, 1);
    layout->addWidget(clear, 0, Qt::AlignRight);
    connect(clear, &QPushButton::clicked, tasks_, &TaskList::clearFinished);
    delay_ = new QTimer(this);
    delay_->setSingleShot(true);
    connect(delay_, &QTimer::timeout, this, &TaskPanel::refresh);
    connect(tasks_, &TaskList::changed, this, &TaskPanel::refresh);
    refresh();
}

int TaskPanel::visibleRows() const { return tree_->topLevelItemCount(); }

void TaskPanel::refresh()
{
    tree_->clear();
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    qint64 nextDue = -1;
    for (const JobStatus& s : tasks_->tasks()) {
        if (!s.isFinished()) {
            const qint64 age = s.startedMs > 0 ? now - s.startedMs : 0;
            if (s.startedMs == 0 || age < TaskList::showAfterMs) {
                const qint64 due = s.startedMs == 0 ? TaskList::showAfterMs : TaskList::showAfterMs - age;
                nextDue = nextDue < 0 ? due : std::min(nextDue, due);
                continue;
            }
        }
        auto* item = new QTreeWidgetItem(tree_);
        QString text = s.title;
        if (s.isFinished())
            text += QStringLiteral(" \u2014 ") + jobStateName(s.state) + (s.message.isEmpty() ? QString() : QStringLiteral(": ") + s.message);
        else if (!s.message.isEmpty())
            text += QStringLiteral(" \u2014 ") + s.message;
        item->setText(0, text);
        item->setToolTip(0, text);
        auto* bar = new QProgressBar;
        bar->setRange(0, 1000);
        bar->setValue(int(s.fraction * 1000));
        bar->setMaximumWidth(140);
        tree_->setItemWidget(item, 1, bar);
        if (!s.isFinished()) {
            auto* cancel = new QToolButton;
            cancel->setText(tr("Cancel"));
            const quint64 ticket = s.ticket;
            connect(cancel, &QToolButton::clicked, this, [this, ticket] { tasks_->cancel(ticket); });
            tree_->setItemWidget(item, 2, cancel);
        }
    }
    if (nextDue >= 0)
        delay_->start(int(nextDue) + 1);
}

}  // namespace ei
