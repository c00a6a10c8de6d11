// See StudyPanel.h.
#include "ui/panels/StudyPanel.h"

#include "ui/panels/TagBrowser.h"

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMimeData>
#include <QMouseEvent>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QStyle>
#include <QVBoxLayout>

#include <functional>

#include <algorithm>
#include <cmath>

namespace ei {

namespace {

// One slot row: a drop target that reports clicks.
class SlotFrame : public QFrame {
public:
    std::function<void(const QString&)> onDrop;
    std::function<void()> onClick;
    explicit SlotFrame(QWidget* parent) : QFrame(parent) { setAcceptDrops(true); }

protected:
    void dragEnterEvent(QDragEnterEvent* e) override
    {
        if (e->mimeData()->hasUrls()) {
            e->acceptProposedAction();
            setProperty("dropping", true);
            style()->polish(this);
        }
    }
    void dragLeaveEvent(QDragLeaveEvent*) override
    {
        setProperty("dropping", false);
        style()->polish(this);
    }
    void dropEvent(QDropEvent* e) override
    {
        setProperty("dropping", false);
        style()->polish(this);
        const auto urls = e->mimeData()->urls();
        if (!urls.isEmpty() && urls.first().isLocalFile() && onDrop) {
            onDrop(urls.first().toLocalFile());
            e->acceptProposedAction();
        }
    }
    void mousePressEvent(QMouseEvent* e) override
    {
        if (onClick)
            onClick();
        QFrame::mousePressEvent(e);
    }
};

}  // namespace

StudyPanel::StudyPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* split = new QSplitter(Qt::Vertical, this);
    layout->addWidget(split);

    auto* scroll = new QScrollArea(split);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    slotArea_ = new QWidget(scroll);
    slotLayout_ = new QVBoxLayout(slotArea_);
    slotLayout_->setContentsMargins(0, 0, 0, 0);
    slotLayout_->setSpacing(6);
    hint_ = new QLabel(tr("Open a model to see its modality slots."), slotArea_);
    hint_->setWordWrap(true);
    slotLayout_->addWidget(hint_);
    slotLayout_->addStretch(1);
    scroll->setWidget(slotArea_);
    split->addWidget(scroll);

    tags_ = new TagBrowser(split);
    split->addWidget(tags_);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
}

QImage StudyPanel::thumbnail(const Image& im, int size)
{
    if (im.width <= 0 || im.height <= 0 || im.pixels.empty())
        return {};
    const double scale = double(size) / std::max(im.width, im.height);
    const int w = std::max(1, int(im.width * scale)), h = std::max(1, int(im.height * scale));
    QImage out(w, h, QImage::Format_RGB888);
    const int s = im.slices / 2;
    const double lo = im.windowCenter - im.windowWidth / 2.0, k = 255.0 / std::max(im.windowWidth, 1e-6);
    const bool invert = im.photometric == "MONOCHROME1";
    for (int y = 0; y < h; ++y) {
        uchar* line = out.scanLine(y);
        const int sy = std::min(im.height - 1, int((y + 0.5) / scale));
        for (int x = 0; x < w; ++x) {
            const int sx = std::min(im.width - 1, int((x + 0.5) / scale));
            for (int c = 0; c < 3; ++c) {
                const float v = im.at(s, sy, sx, im.channels >= 3 ? c : 0);
                int q = std::clamp(int(std::lround((v - lo) * k)), 0, 255);
                line[x * 3 + c] = uchar(invert ? 255 - q : q);
            }
        }
    }
    return out;
}

void StudyPanel::setSlots(const QVector<Slot>& slots)
{
    slots_ = slots;
    for (QFrame* f : frames_)
        f->deleteLater();
    frames_.clear();
    hint_->setVisible(slots.isEmpty());
    QStringList names;
    for (const auto& s : slots)
        names << s.name;

    for (int i = 0; i < slots.size(); ++i) {
        const Slot& s = slots[i];
        auto* frame = new SlotFrame(slotArea_);
        frame->setObjectName(QStringLiteral("slotFrame"));
        frame->setProperty("filled", s.image != nullptr);
        frame->setFrameShape(QFrame::StyledPanel);
        const QString name = s.name;
        frame->onDrop = [this, name](const QString& path) { Q_EMIT fileDropped(name, path); };
        frame->onClick = [this, name] { selectSlot(name); };
        auto* row = new QHBoxLayout(frame);
        row->setContentsMargins(6, 6, 6, 6);

        auto* thumb = new QLabel(frame);
        thumb->setFixedSize(76, 76);
        thumb->setAlignment(Qt::AlignCenter);
        thumb->setObjectName(QStringLiteral("thumbnail"));
        if (s.image)
            thumb->setPixmap(QPixmap::fromImage(thumbnail(*s.image, 72)));
        else
            thumb->setText(tr("empty"));
        row->addWidget(thumb);

        auto* info = new QVBoxLayout;
        auto* title = new QLabel(QStringLiteral("<b>%1</b> <span style='color:#8a9099'>%2</span>")
                                     .arg(s.name.toHtmlEscaped(), s.kind.toHtmlEscaped()),
                                 frame);
        info->addWidget(title);
        QString details;
        if (s.image) {
            const Image& im = *s.image;
            details = QFileInfo(s.path).fileName().toHtmlEscaped() + QStringLiteral("<br>");
            QStringList t;
            if (!im.tags.modality.empty())
                t << QString::fromStdString(im.tags.modality);
            if (!im.tags.laterality.empty())
                t << QString::fromStdString(im.tags.laterality);
            if (!im.tags.studyDate.empty())
                t << QString::fromStdString(im.tags.studyDate);
            t << (im.isVolume() ? QStringLiteral("%1\u00d7%2\u00d7%3").arg(im.slices).arg(im.height).arg(im.width)
                                : QStringLiteral("%1\u00d7%2").arg(im.width).arg(im.height));
            t << QString::fromStdString(im.format).toUpper();
            details += QStringLiteral("<span style='color:#8a9099'>%1</span>").arg(t.join(QStringLiteral(" \u2022 ")).toHtmlEscaped());
            if (!im.tags.seriesDescription.empty())
                details += QStringLiteral("<br><span style='color:#8a9099'>%1</span>")
                               .arg(QString::fromStdString(im.tags.seriesDescription).toHtmlEscaped());
        } else {
            details = tr("<span style='color:#d9a441'>empty: drop a file here or Open\u2026</span>");
        }
        auto* detailLabel = new QLabel(details, frame);
        detailLabel->setWordWrap(true);
        detailLabel->setObjectName(QStringLiteral("slotDetails"));
        info->addWidget(detailLabel);

        auto* buttons = new QHBoxLayout;
        auto* open = new QToolButton(frame);
        open->setText(tr("Open\u2026"));
        connect(open, &QToolButton::clicked, this, [this, name] { Q_EMIT openRequested(name); });
        buttons->addWidget(open);
        if (s.image) {
            auto* clear = new QToolButton(frame);
            clear->setText(tr("Clear"));
            connect(clear, &QToolButton::clicked, this, [this, name] { Q_EMIT clearRequested(name); });
            buttons->addWidget(clear);
            if (slots.size() > 1) {
                auto* move = new QComboBox(frame);
                move->setToolTip(tr("Assign this image to another slot (the images swap)"));
                move->addItem(tr("Move to\u2026"));
                for (const QString& other : names)
                    if (other != name)
                        move->addItem(other);
                connect(move, &QComboBox::activated, this, [this, name, move](int index) {
                    if (index > 0)
                        Q_EMIT moveRequested(name, move->itemText(index));
                });
                buttons->addWidget(move);
            }
        }
        buttons->addStretch(1);
        info->addLayout(buttons);
        row->addLayout(info, 1);
        slotLayout_->insertWidget(i, frame);
        frames_.push_back(frame);
    }
    if (!names.contains(selected_))
        selected_ = names.isEmpty() ? QString() : names.first();
    selectSlot(selected_);
}

void StudyPanel::selectSlot(const QString& name)
{
    selected_ = name;
    const Slot* found = nullptr;
    for (int i = 0; i < slots_.size(); ++i) {
        const bool sel = slots_[i].name == name;
        if (sel)
            found = &slots_[i];
        if (i < frames_.size()) {
            frames_[i]->setProperty("selected", sel);
            frames_[i]->style()->polish(frames_[i]);
        }
    }
    showTags(found);
}

void StudyPanel::showTags(const Slot* slot)
{
    tags_->setImage(slot ? slot->image.get() : nullptr, slot ? slot->path : QString());
}

}  // namespace ei
