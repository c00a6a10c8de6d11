#include "ui/wizard/RemoteRunDialog.h"

#include "core/training/RemoteRun.h"
#include "models/Error.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ei {

RemoteRunDialog::RemoteRunDialog(TrainingRequest request, QWidget* parent) : QDialog(parent), request_(std::move(request))
{
    setObjectName("remoteRunDialog");
    setWindowTitle(tr("Train on several machines"));
    hosts_ = new QLineEdit;
    hosts_->setObjectName("hostsEdit");
    hosts_->setPlaceholderText(tr("node0 node1 ...  (rank 0 first)"));
    hosts_->setToolTip(tr("The machines, one rank each, separated by spaces or commas. The first is rank 0: it hosts the "
                          "rendezvous, validates and writes the run folder."));
    port_ = new QSpinBox;
    port_->setObjectName("portSpin");
    port_->setRange(1, 65535);
    port_->setValue(29500);
    port_->setToolTip(tr("A free TCP port on rank 0's machine (MASTER_PORT)."));
    commands_ = new QPlainTextEdit;
    commands_->setObjectName("launchCommands");
    commands_->setReadOnly(true);
    commands_->setLineWrapMode(QPlainTextEdit::NoWrap);
    commands_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    commands_->setMinimumSize(720, 140);
    note_ = new QLabel;
    note_->setObjectName("launchNote");
    note_->setWordWrap(true);
    auto* copy = new QPushButton(tr("Copy commands"));
    copy->setObjectName("copyButton");
    write_ = new QPushButton(tr("Write TRAIN.json and watch"));
    write_->setObjectName("writeWatchButton");
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    buttons->addButton(copy, QDialogButtonBox::ActionRole);
    buttons->addButton(write_, QDialogButtonBox::AcceptRole);

    auto* form = new QFormLayout;
    form->addRow(tr("Machines:"), hosts_);
    form->addRow(tr("Rendezvous port:"), port_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(new QLabel(tr("Run one line on each machine (the same paths must exist on every one of them: "
                                    "a shared file system, or copies at the same place):")));
    layout->addWidget(commands_, 1);
    layout->addWidget(note_);
    layout->addWidget(buttons);
    // The note wraps: give it the lines it needs, so that it never overlaps the commands.
    note_->setMinimumHeight(note_->fontMetrics().lineSpacing() * 3);
    resize(900, 380);

    connect(hosts_, &QLineEdit::textChanged, this, &RemoteRunDialog::refresh);
    connect(port_, qOverload<int>(&QSpinBox::valueChanged), this, &RemoteRunDialog::refresh);
    connect(copy, &QPushButton::clicked, this, [this] { QApplication::clipboard()->setText(commands_->toPlainText()); });
    connect(write_, &QPushButton::clicked, this, &RemoteRunDialog::writeAndWatch);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    refresh();
}

QStringList RemoteRunDialog::machines() const
{
    return hosts_->text().split(QRegularExpression(QStringLiteral("[\\s,]+")), Qt::SkipEmptyParts);
}

void RemoteRunDialog::refresh()
{
    const QStringList hosts = machines();
    try {
        const LaunchPlan plan = launchPlan(request_, hosts, port_->value());
        commands_->setPlainText(plan.commands.join(QLatin1Char('\n')));
        note_->setText((hosts.size() == 1 ? tr("1 rank.") : tr("%1 ranks.").arg(hosts.size())) + QLatin1Char(' ') +
                       tr("The commands read %1, which \"Write TRAIN.json and watch\" creates; rank 0 then writes its "
                          "progress into the run folder, and the run page follows it.")
                           .arg(plan.configPath));
        write_->setEnabled(true);
    } catch (const Error& e) {
        commands_->clear();
        note_->setText(QString::fromStdString(e.what()));
        write_->setEnabled(false);
    }
}

void RemoteRunDialog::writeAndWatch()
{
    const QStringList hosts = machines();
    try {
        const LaunchPlan plan = launchPlan(request_, hosts, port_->value());
        writeLaunchConfig(request_, plan);
        Q_EMIT watchRequested(QString::fromStdString(request_.outDir));
        accept();
    } catch (const Error& e) {
        note_->setText(QString::fromStdString(e.what()));
    }
}

}  // namespace ei
