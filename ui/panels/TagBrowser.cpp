// See TagBrowser.h.
#include "ui/panels/TagBrowser.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLineEdit>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QVBoxLayout>

namespace ei {

TagBrowser::TagBrowser(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    search_ = new QLineEdit(this);
    search_->setObjectName(QStringLiteral("tagSearch"));
    search_->setPlaceholderText(tr("Search tags (name, number or value)"));
    search_->setClearButtonEnabled(true);
    layout->addWidget(search_);
    tree_ = new QTreeWidget(this);
    tree_->setColumnCount(3);
    tree_->setHeaderLabels({tr("Tag"), tr("Name"), tr("Value")});
    tree_->setAlternatingRowColors(true);
    tree_->setUniformRowHeights(true);
    tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    tree_->header()->setSectionResizeMode(1, QHeaderView::Interactive);
    tree_->header()->resizeSection(1, 120);  // long names are elided; the value gets the rest
    tree_->header()->setStretchLastSection(true);
    layout->addWidget(tree_, 1);
    connect(search_, &QLineEdit::textChanged, this, &TagBrowser::setFilter);
}

void TagBrowser::setImage(const Image* image, const QString& path)
{
    tree_->clear();
    if (!image)
        return;
    const Image& im = *image;
    auto* summary = new QTreeWidgetItem(tree_, QStringList{tr("Summary")});
    summary->setFirstColumnSpanned(true);
    auto add = [summary](const QString& k, const QString& v) {
        if (!v.isEmpty())
            new QTreeWidgetItem(summary, QStringList{QString(), k, v});
    };
    add(tr("File"), QFileInfo(path).fileName());
    add(tr("Format"), QString::fromStdString(im.format));
    add(tr("Size (S\u00d7H\u00d7W\u00d7C)"), QStringLiteral("%1\u00d7%2\u00d7%3\u00d7%4").arg(im.slices).arg(im.height).arg(im.width).arg(im.channels));
    add(tr("Modality"), QString::fromStdString(im.tags.modality));
    add(tr("Laterality"), QString::fromStdString(im.tags.laterality));
    add(tr("Series"), QString::fromStdString(im.tags.seriesDescription));
    add(tr("Study date"), QString::fromStdString(im.tags.studyDate));
    add(tr("Manufacturer"), QString::fromStdString(im.tags.manufacturer));
    add(tr("Body part"), QString::fromStdString(im.tags.bodyPart));
    add(tr("Photometric"), QString::fromStdString(im.photometric));
    add(tr("Bits stored"), QString::number(im.bitsStored));
    add(tr("Transfer syntax"), QString::fromStdString(im.transferSyntax));
    add(tr("Window (C / W)"), QStringLiteral("%1 / %2").arg(im.windowCenter).arg(im.windowWidth));
    if (im.hasGeometry)
        add(tr("Spacing (mm)"), QStringLiteral("%1 \u00d7 %2 \u00d7 %3").arg(im.spacing[0]).arg(im.spacing[1]).arg(im.spacing[2]));
    if (im.tags.elements.empty())  // non-DICOM: what the loader noted
        for (const auto& [k, v] : im.tags.other)
            add(QString::fromStdString(k), QString::fromStdString(v));
    summary->setExpanded(true);

    if (!im.tags.elements.empty()) {
        auto* dicom = new QTreeWidgetItem(tree_, QStringList{tr("DICOM data set (%1 elements)").arg(im.tags.elements.size())});
        dicom->setFirstColumnSpanned(true);
        // depth d's parent is the last row at depth d - 1
        std::vector<QTreeWidgetItem*> parents{dicom};
        for (const DicomElement& e : im.tags.elements) {
            const std::size_t d = static_cast<std::size_t>(e.depth);
            parents.resize(std::min(parents.size(), d + 1));
            QTreeWidgetItem* parent = parents.back();
            auto* row = new QTreeWidgetItem(parent, QStringList{QString::fromStdString(e.tag), QString::fromStdString(e.name),
                                                                QString::fromStdString(e.value)});
            row->setToolTip(2, QString::fromStdString(e.vr + "  " + e.value));
            if (e.value == kHiddenValue)
                row->setForeground(2, palette().color(QPalette::Disabled, QPalette::Text));
            parents.push_back(row);
        }
        dicom->setExpanded(true);
    }
    setFilter(search_->text());
}

QString TagBrowser::filter() const { return search_->text(); }

void TagBrowser::setFilter(const QString& text)
{
    if (search_->text() != text)
        search_->setText(text);  // comes back here through textChanged
    for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
        QTreeWidgetItem* top = tree_->topLevelItem(i);
        bool any = false;
        for (int c = 0; c < top->childCount(); ++c)
            any = applyFilter(top->child(c), text.trimmed()) || any;
        top->setHidden(!any && !text.trimmed().isEmpty());
    }
}

bool TagBrowser::applyFilter(QTreeWidgetItem* item, const QString& text)
{
    bool match = text.isEmpty();
    for (int c = 0; c < 3 && !match; ++c)
        match = item->text(c).contains(text, Qt::CaseInsensitive);
    bool child = false;
    for (int k = 0; k < item->childCount(); ++k)
        child = applyFilter(item->child(k), match ? QString() : text) || child;  // a match shows its whole sequence
    item->setHidden(!(match || child));
    if (child && !text.isEmpty())
        item->setExpanded(true);
    return match || child;
}

int TagBrowser::rowCount() const
{
    int n = 0;
    for (QTreeWidgetItemIterator it(tree_); *it; ++it)
        n += (*it)->parent() ? 1 : 0;
    return n;
}

int TagBrowser::visibleRowCount() const
{
    int n = 0;
    for (QTreeWidgetItemIterator it(tree_, QTreeWidgetItemIterator::NotHidden); *it; ++it)
        n += (*it)->parent() ? 1 : 0;
    return n;
}

QStringList TagBrowser::visibleValues(const QString& name) const
{
    QStringList out;
    for (QTreeWidgetItemIterator it(tree_, QTreeWidgetItemIterator::NotHidden); *it; ++it)
        if ((*it)->text(1) == name)
            out << (*it)->text(2);
    return out;
}

}  // namespace ei
