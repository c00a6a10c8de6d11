// See AboutDialog.h. The facts come from core/BuildInfo; this file only lays them out.
#include "ui/window/AboutDialog.h"

#include "core/BuildInfo.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

// eiview_ui is a static library: the linker keeps its compiled resources (the icon) only
// when something references them, and Q_INIT_RESOURCE must be called outside a namespace.
static void initUiResources()
{
    Q_INIT_RESOURCE(eiview);
}

namespace ei {

namespace {

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

QLabel* selectableLabel(const QString& text, const QString& objectName)
{
    auto* label = new QLabel(text);
    label->setObjectName(objectName);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    return label;
}

}  // namespace

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("About EIView"));
    setObjectName(QStringLiteral("aboutDialog"));
    initUiResources();

    auto* icon = new QLabel;
    icon->setPixmap(QIcon(QStringLiteral(":/eiview/icons/eiview.svg")).pixmap(64, 64));
    icon->setAlignment(Qt::AlignTop);

    auto* title = new QLabel(QStringLiteral("<h2>%1 %2</h2>").arg(qs(BuildInfo::applicationName()), qs(BuildInfo::applicationVersion())));
    title->setObjectName(QStringLiteral("aboutTitle"));
    auto* summary = new QLabel(tr("A viewer for multimodal medical images that runs the EI model "
                                  "(\"Early Intervention\", CVPR 2026) and shows what it saw.\n"
                                  "Research software: not a medical device, not for diagnosis."));
    summary->setWordWrap(true);

    auto* facts = new QFormLayout;
    for (const auto& c : BuildInfo::components())
        facts->addRow(qs(c.name) + QLatin1Char(':'), selectableLabel(qs(c.version), QStringLiteral("version_") + qs(c.name)));
    facts->addRow(tr("Device:"), selectableLabel(qs(BuildInfo::deviceSummary()), QStringLiteral("device")));
    facts->addRow(tr("BLAS:"), selectableLabel(qs(BuildInfo::blasLibrary()), QStringLiteral("blas")));
    modelLabel_ = selectableLabel(QString(), QStringLiteral("model"));
    facts->addRow(tr("Model:"), modelLabel_);

    auto* text = new QVBoxLayout;
    text->addWidget(title);
    text->addWidget(summary);
    text->addLayout(facts);

    auto* top = new QHBoxLayout;
    top->addWidget(icon);
    top->addLayout(text, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    auto* copy = buttons->addButton(tr("Copy details"), QDialogButtonBox::ActionRole);
    copy->setObjectName(QStringLiteral("copyDetails"));
    connect(copy, &QPushButton::clicked, this, &AboutDialog::copyDetails);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(buttons);

    setModel(QString(), QString());
}

void AboutDialog::setModel(const QString& modelName, const QString& intendedUse, const QString& runsOn)
{
    modelName_ = modelName;
    intendedUse_ = intendedUse;
    runsOn_ = runsOn;
    if (modelName.isEmpty()) {
        modelLabel_->setText(tr("none open"));
        return;
    }
    QString text = modelName;
    if (!runsOn.isEmpty())
        text += tr("\nRuns on: %1").arg(runsOn);
    text += intendedUse.isEmpty() ? tr("\nIntended use: not stated by the model") : tr("\nIntended use: %1").arg(intendedUse);
    modelLabel_->setText(text);
}

QString AboutDialog::detailsText() const
{
    QString text = qs(BuildInfo::versionReport(BuildInfo::applicationName()));
    if (!modelName_.isEmpty()) {
        text += QStringLiteral("Model: %1\n").arg(modelName_);
        if (!runsOn_.isEmpty())
            text += QStringLiteral("Runs on: %1\n").arg(runsOn_);
        text += QStringLiteral("Intended use: %1\n").arg(intendedUse_.isEmpty() ? tr("not stated by the model") : intendedUse_);
    }
    return text;
}

void AboutDialog::copyDetails()
{
    QGuiApplication::clipboard()->setText(detailsText());
}

}  // namespace ei
