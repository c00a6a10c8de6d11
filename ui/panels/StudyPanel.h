// The study: one row per modality slot of the model (thumbnail, file name, main tags,
// buttons to open / clear / move the image to another slot, drop target), and a tag
// browser with everything else the loader read for the selected slot. Patient
// identifiers are not shown here (the export asks before it writes them).
#pragma once

#include "core/io/Image.h"

#include <QFrame>
#include <QImage>
#include <QVector>
#include <QWidget>

#include <memory>

class QVBoxLayout;
class QLabel;

namespace ei {

class TagBrowser;

class StudyPanel : public QWidget {
    Q_OBJECT
public:
    struct Slot {
        QString name;
        QString kind;  // "image" / "volume"
        std::shared_ptr<const Image> image;
        QString path;
    };
    explicit StudyPanel(QWidget* parent = nullptr);

    void setSlots(const QVector<Slot>& slots);
    void selectSlot(const QString& name);
    QString selectedSlot() const { return selected_; }
    TagBrowser* tagBrowser() const { return tags_; }
    static QImage thumbnail(const Image& image, int size);

Q_SIGNALS:
    void openRequested(const QString& slot);
    void clearRequested(const QString& slot);
    void moveRequested(const QString& fromSlot, const QString& toSlot);
    void fileDropped(const QString& slot, const QString& path);

private:
    void showTags(const Slot* slot);

    QVector<Slot> slots_;
    QString selected_;
    QWidget* slotArea_ = nullptr;
    QVBoxLayout* slotLayout_ = nullptr;
    TagBrowser* tags_ = nullptr;
    QLabel* hint_ = nullptr;
    QVector<QFrame*> frames_;
};

}  // namespace ei
