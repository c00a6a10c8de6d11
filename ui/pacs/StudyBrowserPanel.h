// The Studies dock: a view of core/pacs/StudyBrowser. Pick where to search (the local
// studies or a PACS node), fill in what you know (name, ID, dates, modality, accession),
// and the matches list; Open (local) or Retrieve (a node), Delete, Import, Nodes.... The
// work runs as tasks of the browser's job (progress and Cancel in the task list).
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace ei {

class StudyBrowser;

class StudyBrowserPanel : public QWidget {
    Q_OBJECT
public:
    explicit StudyBrowserPanel(StudyBrowser* browser, QWidget* parent = nullptr);

    void search();
    QString selectedStudy() const;  // its Study Instance UID, or ""
    QTableWidget* table() const { return table_; }
    QLabel* statusLabel() const { return status_; }

Q_SIGNALS:
    void openRequested(const QStringList& seriesFolders);
    void nodesRequested();

private:
    void showSources();
    void showMatches();
    void showSelection();
    void openOrRetrieve();
    void deleteSelected();
    void importFiles();
    void setStatus(const QString& text, bool error = false);

    StudyBrowser* browser_;
    QComboBox* source_;
    QLineEdit *name_, *id_, *date_, *modality_, *accession_, *description_;
    QPushButton *searchButton_, *openButton_, *deleteButton_, *importButton_;
    QTableWidget* table_;
    QLabel* status_;
    quint64 searchTicket_ = 0;
};

}  // namespace ei
