// See MeasurementPanel.h.
#include "ui/panels/MeasurementPanel.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

namespace ei {

MeasurementPanel::MeasurementPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* hint = new QLabel(tr("Tools: D distance, N angle, B rectangle, E ellipse, Q back to pan."), this);
    hint->setWordWrap(true);
    layout->addWidget(hint);
    list_ = new QListWidget(this);
    list_->setObjectName(QStringLiteral("measurementList"));
    list_->setWordWrap(true);
    list_->setAlternatingRowColors(true);
    layout->addWidget(list_, 1);
    auto* row = new QHBoxLayout;
    delete_ = new QPushButton(tr("Delete"), this);
    clear_ = new QPushButton(tr("Clear all"), this);
    row->addWidget(delete_);
    row->addWidget(clear_);
    row->addStretch(1);
    layout->addLayout(row);
    connect(list_, &QListWidget::currentRowChanged, this, [this](int r) {
        delete_->setEnabled(r >= 0);
        if (r >= 0)
            Q_EMIT selected(list_->item(r)->data(Qt::UserRole).toInt());
    });
    connect(delete_, &QPushButton::clicked, this, [this] {
        if (QListWidgetItem* it = list_->currentItem())
            Q_EMIT deleteRequested(it->data(Qt::UserRole).toInt());
    });
    connect(clear_, &QPushButton::clicked, this, &MeasurementPanel::clearRequested);
    setItems({});
}

void MeasurementPanel::setItems(const QVector<QPair<int, QString>>& items)
{
    const QSignalBlocker block(list_);
    list_->clear();
    for (const auto& [id, text] : items) {
        auto* it = new QListWidgetItem(text, list_);
        it->setData(Qt::UserRole, id);
    }
    delete_->setEnabled(false);
    clear_->setEnabled(!items.isEmpty());
}

int MeasurementPanel::count() const { return list_->count(); }

QString MeasurementPanel::text(int row) const { return row >= 0 && row < list_->count() ? list_->item(row)->text() : QString(); }

void MeasurementPanel::selectRow(int row) { list_->setCurrentRow(row); }

}  // namespace ei
