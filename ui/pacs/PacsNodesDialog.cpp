#include "ui/pacs/PacsNodesDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ei {

PacsNodesDialog::PacsNodesDialog(StudyBrowser* browser, QWidget* parent) : QDialog(parent), browser_(browser)
{
    setWindowTitle(tr("PACS nodes"));
    resize(720, 460);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Nodes: an AE title with host and port (DIMSE), or a DICOMweb base URL. "
                                    "The login is USER:PASSWORD or bearer:TOKEN (DICOMweb only)."),
                                 this));
    nodes_ = new QTableWidget(0, 3, this);
    nodes_->setObjectName(QStringLiteral("nodeTable"));
    nodes_->setHorizontalHeaderLabels({tr("Name"), tr("Address"), tr("Login")});
    nodes_->horizontalHeader()->setStretchLastSection(true);
    nodes_->setSelectionBehavior(QAbstractItemView::SelectRows);
    nodes_->verticalHeader()->hide();
    layout->addWidget(nodes_, 1);
    for (const auto& node : browser_->settings().nodes)
        addNode(node);
    nodes_->resizeColumnsToContents();

    auto* buttons = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add"), this);
    auto* remove = new QPushButton(tr("Remove"), this);
    auto* test = new QPushButton(tr("Test connection"), this);
    test->setObjectName(QStringLiteral("testConnectionButton"));
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch(1);
    buttons->addWidget(test);
    layout->addLayout(buttons);
    testResult_ = new QLabel(this);
    testResult_->setObjectName(QStringLiteral("testResult"));
    testResult_->setWordWrap(true);
    layout->addWidget(testResult_);

    const PacsSettings& s = browser_->settings();
    auto* form = new QFormLayout;
    callingAe_ = new QLineEdit(s.callingAe, this);
    callingAe_->setMaxLength(16);
    form->addRow(tr("EIView's AE title"), callingAe_);
    auto* receiverRow = new QHBoxLayout;
    receiver_ = new QCheckBox(tr("Receive studies (C-STORE, the C-MOVE destination) on port"), this);
    receiver_->setChecked(s.receiverEnabled);
    port_ = new QSpinBox(this);
    port_->setRange(1, 65535);
    port_->setValue(s.receiverPort);
    receiverRow->addWidget(receiver_);
    receiverRow->addWidget(port_);
    receiverRow->addStretch(1);
    form->addRow(QString(), receiverRow);
    if (!browser_->receiverError().isEmpty())
        form->addRow(QString(), new QLabel(browser_->receiverError(), this));
    database_ = new QLineEdit(s.databaseDir, this);
    form->addRow(tr("Local studies folder"), database_);
    layout->addLayout(form);

    auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    layout->addWidget(box);
    connect(box, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(add, &QPushButton::clicked, this, [this] {
        addNode({tr("New node"), QStringLiteral("PACS@host:104"), QString()});
        nodes_->setCurrentCell(nodes_->rowCount() - 1, 0);
        nodes_->editItem(nodes_->item(nodes_->rowCount() - 1, 0));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (nodes_->currentRow() >= 0)
            nodes_->removeRow(nodes_->currentRow());
    });
    connect(test, &QPushButton::clicked, this, &PacsNodesDialog::testSelected);
    connect(browser_, &StudyBrowser::connectionTested, this, [this](int, bool ok, const QString& message) {
        testResult_->setText(message);
        testResult_->setStyleSheet(ok ? QStringLiteral("color: #a5d6a7;") : QStringLiteral("color: #ff8a80;"));
    });
}

void PacsNodesDialog::addNode(const PacsNodeEntry& node)
{
    const int row = nodes_->rowCount();
    nodes_->insertRow(row);
    nodes_->setItem(row, 0, new QTableWidgetItem(node.name));
    nodes_->setItem(row, 1, new QTableWidgetItem(node.address));
    nodes_->setItem(row, 2, new QTableWidgetItem(node.login));
}

PacsSettings PacsNodesDialog::settings() const
{
    PacsSettings s = browser_->settings();
    s.nodes.clear();
    for (int row = 0; row < nodes_->rowCount(); ++row) {
        const auto text = [&](int column) { return nodes_->item(row, column) ? nodes_->item(row, column)->text().trimmed() : QString(); };
        if (!text(1).isEmpty())
            s.nodes.push_back({text(0), text(1), text(2)});
    }
    s.callingAe = callingAe_->text().trimmed().isEmpty() ? s.callingAe : callingAe_->text().trimmed();
    s.receiverEnabled = receiver_->isChecked();
    s.receiverPort = port_->value();
    s.databaseDir = database_->text().trimmed().isEmpty() ? s.databaseDir : database_->text().trimmed();
    return s;
}

void PacsNodesDialog::testSelected()
{
    const int row = nodes_->currentRow() >= 0 ? nodes_->currentRow() : 0;
    if (row >= nodes_->rowCount()) {
        testResult_->setText(tr("Add a node first."));
        return;
    }
    // Test what the dialog shows, not what was saved: apply the edits to the browser first.
    browser_->setSettings(settings());
    testResult_->setText(tr("Testing..."));
    testResult_->setStyleSheet(QString());
    browser_->testConnection(row);
}

}  // namespace ei
