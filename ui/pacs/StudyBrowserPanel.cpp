#include "ui/pacs/StudyBrowserPanel.h"

#include "core/pacs/StudyBrowser.h"
#include "models/Error.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ei {

namespace {

// The columns: header, DICOM keyword.
const std::vector<std::pair<const char*, const char*>> kColumns = {
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Patient"), "PatientName"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "ID"), "PatientID"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Date"), "StudyDate"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Description"), "StudyDescription"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Modalities"), "ModalitiesInStudy"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Series"), "NumberOfStudyRelatedSeries"},
    {QT_TRANSLATE_NOOP("StudyBrowserPanel", "Images"), "NumberOfStudyRelatedInstances"},
};

QString displayName(const std::string& dicomName)
{
    return QString::fromStdString(dicomName).replace('^', ' ').simplified();
}

QString displayDate(const std::string& d)
{
    return d.size() == 8 ? QString::fromStdString(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2))
                         : QString::fromStdString(d);
}

}  // namespace

StudyBrowserPanel::StudyBrowserPanel(StudyBrowser* browser, QWidget* parent) : QWidget(parent), browser_(browser)
{
    auto* layout = new QVBoxLayout(this);
    auto* sourceRow = new QHBoxLayout;
    source_ = new QComboBox(this);
    source_->setObjectName(QStringLiteral("studySource"));
    auto* nodes = new QPushButton(tr("Nodes..."), this);
    nodes->setObjectName(QStringLiteral("pacsNodesButton"));
    nodes->setToolTip(tr("Add, edit and test PACS nodes; EIView's own receiver"));
    sourceRow->addWidget(new QLabel(tr("Search in"), this));
    sourceRow->addWidget(source_, 1);
    sourceRow->addWidget(nodes);
    layout->addLayout(sourceRow);

    auto* form = new QFormLayout;
    const auto field = [this, form](QLineEdit*& edit, const QString& label, const QString& name, const QString& hint) {
        edit = new QLineEdit(this);
        edit->setObjectName(name);
        edit->setPlaceholderText(hint);
        edit->setClearButtonEnabled(true);
        connect(edit, &QLineEdit::returnPressed, this, &StudyBrowserPanel::search);
        form->addRow(label, edit);
    };
    field(name_, tr("Patient name"), QStringLiteral("searchName"), tr("DOE^J*  (wildcards * ?)"));
    field(id_, tr("Patient ID"), QStringLiteral("searchId"), QString());
    field(date_, tr("Study date"), QStringLiteral("searchDate"), tr("YYYYMMDD or YYYYMMDD-YYYYMMDD"));
    field(modality_, tr("Modality"), QStringLiteral("searchModality"), tr("MR, OP, OPT, XC ..."));
    field(accession_, tr("Accession"), QStringLiteral("searchAccession"), QString());
    field(description_, tr("Description"), QStringLiteral("searchDescription"), tr("words of the study description"));
    layout->addLayout(form);

    searchButton_ = new QPushButton(tr("Search"), this);
    searchButton_->setObjectName(QStringLiteral("searchButton"));
    searchButton_->setDefault(true);
    layout->addWidget(searchButton_);

    table_ = new QTableWidget(0, static_cast<int>(kColumns.size()), this);
    table_->setObjectName(QStringLiteral("studyTable"));
    QStringList headers;
    for (const auto& [header, keyword] : kColumns)
        headers << tr(header);
    table_->setHorizontalHeaderLabels(headers);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSortingEnabled(true);
    layout->addWidget(table_, 1);

    auto* actions = new QHBoxLayout;
    openButton_ = new QPushButton(this);
    openButton_->setObjectName(QStringLiteral("openStudyButton"));
    deleteButton_ = new QPushButton(tr("Delete"), this);
    deleteButton_->setObjectName(QStringLiteral("deleteStudyButton"));
    deleteButton_->setToolTip(tr("Remove the study from the local studies (the PACS keeps its copy)"));
    importButton_ = new QPushButton(tr("Import..."), this);
    importButton_->setObjectName(QStringLiteral("importButton"));
    importButton_->setToolTip(tr("Copy DICOM files or a folder into the local studies"));
    actions->addWidget(openButton_);
    actions->addWidget(deleteButton_);
    actions->addStretch(1);
    actions->addWidget(importButton_);
    layout->addLayout(actions);

    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("studyBrowserStatus"));
    status_->setWordWrap(true);
    layout->addWidget(status_);

    connect(searchButton_, &QPushButton::clicked, this, &StudyBrowserPanel::search);
    connect(openButton_, &QPushButton::clicked, this, &StudyBrowserPanel::openOrRetrieve);
    connect(table_, &QTableWidget::cellDoubleClicked, this, &StudyBrowserPanel::openOrRetrieve);
    connect(deleteButton_, &QPushButton::clicked, this, &StudyBrowserPanel::deleteSelected);
    connect(importButton_, &QPushButton::clicked, this, &StudyBrowserPanel::importFiles);
    connect(nodes, &QPushButton::clicked, this, &StudyBrowserPanel::nodesRequested);
    connect(table_, &QTableWidget::itemSelectionChanged, this, &StudyBrowserPanel::showSelection);
    connect(source_, qOverload<int>(&QComboBox::activated), this, [this](int index) {
        browser_->setSource(index - 1);
        search();
    });
    connect(browser_, &StudyBrowser::matchesChanged, this, &StudyBrowserPanel::showMatches);
    connect(browser_, &StudyBrowser::sourceChanged, this, &StudyBrowserPanel::showSources);
    connect(browser_, &StudyBrowser::retrieved, this, [this](const QString& uid, int instances) {
        setStatus(tr("Retrieved %1 images into the local studies.").arg(instances));
        Q_EMIT openRequested(browser_->seriesFolders(uid));
    });
    connect(browser_, &StudyBrowser::imported, this, [this](int added, int already) {
        setStatus(tr("Imported %1 images (%2 were already there).").arg(added).arg(already));
    });
    connect(browser_, &StudyBrowser::received, this, [this](int added) {
        setStatus(tr("Received %1 images from the network.").arg(added));
    });
    connect(browser_->job(), &WorkerQueue::failed, this, [this](quint64, const QString& message) { setStatus(message, true); });
    showSources();
    showSelection();
}

void StudyBrowserPanel::showSources()
{
    source_->clear();
    source_->addItem(tr("Local studies"));
    for (const auto& node : browser_->settings().nodes)
        source_->addItem(node.name.isEmpty() ? node.address : node.name);
    source_->setCurrentIndex(browser_->source() + 1);
    openButton_->setText(browser_->sourceIsLocal() ? tr("Open") : tr("Retrieve"));
    openButton_->setToolTip(browser_->sourceIsLocal() ? tr("Open the study in the viewer")
                                                      : tr("Copy the study into the local studies and open it"));
    deleteButton_->setVisible(browser_->sourceIsLocal());
    showSelection();
}

void StudyBrowserPanel::search()
{
    DicomQuery query;
    query.patientName = name_->text().trimmed().toStdString();
    query.patientId = id_->text().trimmed().toStdString();
    query.studyDate = date_->text().trimmed().remove('-').toStdString();
    if (query.studyDate.size() == 16)  // "2024-01-01-2024-02-01" without its dashes
        query.studyDate.insert(8, "-");
    query.modality = modality_->text().trimmed().toUpper().toStdString();
    query.accession = accession_->text().trimmed().toStdString();
    // A description is searched as words in it, as clinicians type it.
    const QString description = description_->text().trimmed();
    if (!description.isEmpty())
        query.description = (description.contains('*') || description.contains('?') ? description
                                                                                     : '*' + description + '*')
                                .toStdString();
    try {
        searchTicket_ = browser_->search(query);
        setStatus(tr("Searching..."));
    } catch (const Error& e) {
        setStatus(QString::fromStdString(e.what()), true);
    }
}

void StudyBrowserPanel::showMatches()
{
    table_->setSortingEnabled(false);
    table_->clearContents();
    const auto& matches = browser_->matches();
    table_->setRowCount(static_cast<int>(matches.size()));
    for (int row = 0; row < table_->rowCount(); ++row) {
        const DicomMatch& m = matches[static_cast<std::size_t>(row)];
        for (int column = 0; column < static_cast<int>(kColumns.size()); ++column) {
            const auto it = m.find(kColumns[static_cast<std::size_t>(column)].second);
            const std::string value = it == m.end() ? std::string() : it->second;
            QString text = QString::fromStdString(value);
            if (column == 0)
                text = displayName(value);
            else if (column == 2)
                text = displayDate(value);
            auto* item = new QTableWidgetItem(text);
            if (column == 0) {
                const auto uid = m.find("StudyInstanceUID");
                item->setData(Qt::UserRole, uid == m.end() ? QString() : QString::fromStdString(uid->second));
            }
            table_->setItem(row, column, item);
        }
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
    const int n = table_->rowCount();
    setStatus(n == 1 ? tr("1 study") : tr("%1 studies").arg(n));
    showSelection();
}

QString StudyBrowserPanel::selectedStudy() const
{
    const auto rows = table_->selectionModel() ? table_->selectionModel()->selectedRows() : QModelIndexList();
    if (rows.isEmpty())
        return {};
    const QTableWidgetItem* item = table_->item(rows.front().row(), 0);
    return item ? item->data(Qt::UserRole).toString() : QString();
}

void StudyBrowserPanel::showSelection()
{
    const bool selected = !selectedStudy().isEmpty();
    openButton_->setEnabled(selected);
    deleteButton_->setEnabled(selected);
}

void StudyBrowserPanel::openOrRetrieve()
{
    const QString uid = selectedStudy();
    if (uid.isEmpty())
        return;
    try {
        if (browser_->sourceIsLocal()) {
            Q_EMIT openRequested(browser_->seriesFolders(uid));
        } else {
            browser_->retrieve(uid);
            setStatus(tr("Retrieving..."));
        }
    } catch (const Error& e) {
        setStatus(QString::fromStdString(e.what()), true);
    }
}

void StudyBrowserPanel::deleteSelected()
{
    const QString uid = selectedStudy();
    if (uid.isEmpty() || !browser_->sourceIsLocal())
        return;
    const int row = table_->currentRow();
    const QString who = row >= 0 && table_->item(row, 0) ? table_->item(row, 0)->text() : QString();
    if (QMessageBox::question(this, tr("Delete the study"),
                              tr("Remove the study of %1 from the local studies? The files EIView copied are deleted; "
                                 "the originals and the PACS keep theirs.")
                                  .arg(who)) != QMessageBox::Yes)
        return;
    try {
        browser_->removeStudy(uid);
    } catch (const Error& e) {
        setStatus(QString::fromStdString(e.what()), true);
    }
}

void StudyBrowserPanel::importFiles()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Import a folder of DICOM files"));
    if (!dir.isEmpty())
        browser_->importPaths({dir});
}

void StudyBrowserPanel::setStatus(const QString& text, bool error)
{
    status_->setText(text);
    status_->setStyleSheet(error ? QStringLiteral("color: #ff8a80;") : QString());
}

}  // namespace ei
