// Everything the loader read about one image, searchable: a summary (file, format, size,
// geometry, window, the main tags) and, for DICOM, every element of the data set with
// sequences as nested items. Identifying values are hidden by the loader
// (core/io/DicomLoaderCommon: isIdentifyingTag) and are never shown here.
#pragma once

#include "core/io/Image.h"

#include <QWidget>

class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;

namespace ei {

class TagBrowser : public QWidget {
    Q_OBJECT
public:
    explicit TagBrowser(QWidget* parent = nullptr);

    void setImage(const Image* image, const QString& path);
    // Shows the rows whose tag, name or value contains the text (case-insensitive), with
    // their enclosing sequences; "" shows all.
    void setFilter(const QString& text);
    QString filter() const;

    int rowCount() const;         // all rows
    int visibleRowCount() const;  // rows the filter leaves
    QStringList visibleValues(const QString& name) const;  // values of the visible rows with that name (tests)

private:
    bool applyFilter(QTreeWidgetItem* item, const QString& text);

    QLineEdit* search_ = nullptr;
    QTreeWidget* tree_ = nullptr;
};

}  // namespace ei
