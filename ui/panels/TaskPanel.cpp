// See TaskPanel.h. One row per task: the title and stage on a line of their own (they
// can be long: file names), under it the progress bar and Cancel, or the outcome.
#include "ui/panels/TaskPanel.h"

#include "core/jobs/TaskList.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace ei {

TaskPanel::TaskPanel(TaskList* tasks, QWidget* parent) : QWidget(parent), tasks_(tasks)
{
    auto* scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* inner = new QWidget(scroll);
    rows_ = new QVBoxLayout(inner);
    rows_->setContentsMargins(4, 4, 4, 4);
    rows_->setSpacing(8);
    rows_->addStretch(1);
    scroll->setWidget(inner);
    empty_ = new QLabel(tr("Nothing is running."), this);
    empty_->setObjectName(QStringLiteral("hint"));
    auto* clear = new QPushButton(tr("Clear finished"), this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(empty_);
    layout->addWidget(scroll, 1);
    layout->addWidget(clear, 0, Qt::AlignRight);
    connect(clear, &QPushButton::clicked, tasks_, &TaskList::clearFinished);
    delay_ = new QTimer(this);
    delay_->setSingleShot(true);
    connect(delay_, &QTimer::timeout, this, &TaskPanel::refresh);
    connect(tasks_, &TaskList::changed, this, &TaskPanel::refresh);
    refresh();
}

int TaskPanel::visibleRows() const { return rows_->count() - 1; }  // less the stretch

QWidget* TaskPanel::makeRow(const JobStatus& s)
{
    auto* row = new QWidget;
    auto* v = new QVBoxLayout(row);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);
    QString text = s.title;
    if (!s.message.isEmpty())
        text += QStringLiteral(" \u2014 ") + s.message;
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    v->addWidget(label);
    if (s.isFinished()) {
        auto* outcome = new QLabel(jobStateName(s.state));
        outcome->setProperty("warning", s.state == JobState::Failed);
        v->addWidget(outcome);
        return row;
    }
    auto* h = new QHBoxLayout;
    auto* bar = new QProgressBar;
    bar->setRange(0, 1000);
    bar->setValue(int(s.fraction * 1000));
    bar->setTextVisible(false);
    h->addWidget(bar, 1);
    auto* cancel = new QToolButton;
    cancel->setText(tr("Cancel"));
    const quint64 ticket = s.ticket;
    connect(cancel, &QToolButton::clicked, this, [this, ticket] { tasks_->cancel(ticket); });
    h->addWidget(cancel);
    v->addLayout(h);
    return row;
}

void TaskPanel::refresh()
{
    while (rows_->count() > 1) {  // keep the stretch at the end
        QLayoutItem* item = rows_->takeAt(0);
        delete item->widget();
        delete item;
    }
    qint64 recheckIn = -1;
    for (const JobStatus& s : tasks_->shownTasks(QDateTime::currentMSecsSinceEpoch(), &recheckIn))
        rows_->insertWidget(rows_->count() - 1, makeRow(s));
    empty_->setVisible(visibleRows() == 0);
    if (recheckIn >= 0)
        delay_->start(int(recheckIn) + 1);
}

}  // namespace ei
