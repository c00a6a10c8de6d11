// ui/window/AboutDialog: shows the build's versions, device and the model's intended use, and
// "Copy details" copies exactly what a support request needs.
#include "core/BuildInfo.h"
#include "tests/TestRegistry.h"
#include "ui/window/AboutDialog.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QLabel>
#include <QPushButton>
#include <QtTest>

class AboutDialogTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsVersionsAndDevice()
    {
        ei::AboutDialog dialog;
        QVERIFY(dialog.findChild<QLabel*>(QStringLiteral("aboutTitle"))->text().contains(QStringLiteral(EIVIEW_VERSION_STRING)));
        for (const auto& c : ei::BuildInfo::components()) {
            auto* label = dialog.findChild<QLabel*>(QStringLiteral("version_") + QString::fromStdString(c.name));
            QVERIFY2(label, c.name.c_str());
            QCOMPARE(label->text(), QString::fromStdString(c.version));
        }
        QCOMPARE(dialog.findChild<QLabel*>(QStringLiteral("device"))->text(), QString::fromStdString(ei::BuildInfo::deviceSummary()));
        QCOMPARE(dialog.findChild<QLabel*>(QStringLiteral("model"))->text(), QStringLiteral("none open"));
    }

    void showsIntendedUse()
    {
        ei::AboutDialog dialog;
        dialog.setModel(QStringLiteral("demo.eimodel"), QStringLiteral("synthetic demo, not for clinical use"));
        const QString model = dialog.findChild<QLabel*>(QStringLiteral("model"))->text();
        QVERIFY2(model.contains(QStringLiteral("demo.eimodel")), qPrintable(model));
        QVERIFY2(model.contains(QStringLiteral("Intended use: synthetic demo, not for clinical use")), qPrintable(model));
        dialog.setModel(QStringLiteral("other.eimodel"), QString());
        QVERIFY(dialog.findChild<QLabel*>(QStringLiteral("model"))->text().contains(QStringLiteral("not stated")));
        // where the model runs (issue 15): device and precision, shown and copied
        dialog.setModel(QStringLiteral("demo.eimodel"), QStringLiteral("demo"), QStringLiteral("CUDA:0, bf16"));
        QVERIFY(dialog.findChild<QLabel*>(QStringLiteral("model"))->text().contains(QStringLiteral("Runs on: CUDA:0, bf16")));
        QVERIFY(dialog.detailsText().contains(QStringLiteral("Runs on: CUDA:0, bf16\n")));
    }

    void copyDetailsPutsTheReportOnTheClipboard()
    {
        ei::AboutDialog dialog;
        dialog.setModel(QStringLiteral("demo.eimodel"), QStringLiteral("synthetic demo"));
        QGuiApplication::clipboard()->setText(QStringLiteral("before"));
        dialog.findChild<QPushButton*>(QStringLiteral("copyDetails"))->click();
        const QString copied = QGuiApplication::clipboard()->text();
        QCOMPARE(copied, dialog.detailsText());
        QVERIFY(copied.startsWith(QString::fromStdString(ei::BuildInfo::versionReport("EIView"))));
        QVERIFY(copied.endsWith(QStringLiteral("Model: demo.eimodel\nIntended use: synthetic demo\n")));
    }
};

EI_REGISTER_TEST(AboutDialogTest);
#include "AboutDialogTest.moc"
