// `eiview --help` and `eiview --version` answer where there is no display (scripts, ssh,
// package checks): they used to abort in Qt's xcb plugin. Run with neither DISPLAY nor
// QT_QPA_PLATFORM set, as on a server.
#include "tests/TestRegistry.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

class ViewerCommandLineTest : public QObject {
    Q_OBJECT

    static QProcess* runHeadless(const QStringList& args)
    {
        auto* p = new QProcess;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        for (const char* name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
            env.remove(name);
        p->setProcessEnvironment(env);
        p->start(ei::test::viewerPath(), args);
        p->waitForFinished(60000);
        return p;
    }

private Q_SLOTS:
    void helpAndVersionNeedNoDisplay()
    {
        std::unique_ptr<QProcess> help(runHeadless({"--help"}));
        QCOMPARE(help->exitStatus(), QProcess::NormalExit);
        QCOMPARE(help->exitCode(), 0);
        const QString text = QString::fromLocal8Bit(help->readAllStandardOutput());
        QVERIFY2(text.contains("--study") && text.contains("--screenshot"), qPrintable(text));

        std::unique_ptr<QProcess> version(runHeadless({"--version"}));
        QCOMPARE(version->exitStatus(), QProcess::NormalExit);
        QCOMPARE(version->exitCode(), 0);
        const QString report = QString::fromLocal8Bit(version->readAllStandardOutput());
        QVERIFY2(report.startsWith("eiview ") && report.contains("LibTorch: "), qPrintable(report));
    }
};

EI_REGISTER_TEST(ViewerCommandLineTest);
#include "ViewerCommandLineTest.moc"
