// PACS settings: the nodes (name, AET@HOST:PORT or DICOMweb URL, login), each with "Test
// connection"; EIView's calling AE title, its C-STORE receiver (on or off, port) and the
// local studies' folder. Edits a copy of the browser's settings; OK applies and saves.
#pragma once

#include "core/pacs/StudyBrowser.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace ei {

class PacsNodesDialog : public QDialog {
    Q_OBJECT
public:
    PacsNodesDialog(StudyBrowser* browser, QWidget* parent = nullptr);

    PacsSettings settings() const;  // what the dialog shows now
    QTableWidget* nodeTable() const { return nodes_; }
    QLabel* testResult() const { return testResult_; }
    void testSelected();

private:
    void addNode(const PacsNodeEntry& node);

    StudyBrowser* browser_;
    QTableWidget* nodes_;
    QLabel* testResult_;
    QLineEdit *callingAe_, *database_;
    QCheckBox* receiver_;
    QSpinBox* port_;
};

}  // namespace ei
