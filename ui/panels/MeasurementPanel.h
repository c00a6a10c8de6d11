// The study's measurements, one line each (what, where, the values), newest last:
// select one to go to its slot and slice, delete it, or clear them all. A view of
// core/view/MeasurementList; the texts come from the window (they depend on the map shown).
#pragma once

#include <QPair>
#include <QVector>
#include <QWidget>

class QListWidget;
class QPushButton;

namespace ei {

class MeasurementPanel : public QWidget {
    Q_OBJECT
public:
    explicit MeasurementPanel(QWidget* parent = nullptr);

    // (id, text) per measurement.
    void setItems(const QVector<QPair<int, QString>>& items);
    int count() const;
    QString text(int row) const;
    void selectRow(int row);

Q_SIGNALS:
    void selected(int id);
    void deleteRequested(int id);
    void clearRequested();

private:
    QListWidget* list_ = nullptr;
    QPushButton* delete_ = nullptr;
    QPushButton* clear_ = nullptr;
};

}  // namespace ei
