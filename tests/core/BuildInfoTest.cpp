// core/BuildInfo: the versions `eiview --version` and the About dialog show must be the
// real ones. Checked against independent sources where one exists: Qt's own macro,
// LibTorch's version macros, the installed DCMTK tools, the CUDA device count and the
// BLAS library Debian's alternatives resolve.
#include "core/BuildInfo.h"
#include "tests/TestRegistry.h"

#include <torch/cuda.h>
#include <torch/version.h>

#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QtTest>

class BuildInfoTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void componentsInOrderWithVersionNumbers()
    {
        const auto components = ei::BuildInfo::components();
        QStringList names;
        for (const auto& c : components) {
            names << QString::fromStdString(c.name);
            QVERIFY2(QRegularExpression(QStringLiteral("^\\d+\\.\\d+\\.\\d+")).match(QString::fromStdString(c.version)).hasMatch(),
                     qPrintable(QString::fromStdString(c.name + " has version '" + c.version + "'")));
        }
        QCOMPARE(names, (QStringList{"LibTorch", "Qt", "DCMTK", "ITK", "OpenCV"}));
    }

    void versionsMatchTheLibraries()
    {
        const auto components = ei::BuildInfo::components();
        QCOMPARE(QString::fromStdString(components[0].version),
                 QStringLiteral("%1.%2.").arg(TORCH_VERSION_MAJOR).arg(TORCH_VERSION_MINOR) + QString::number(TORCH_VERSION_PATCH));
        QVERIFY(QString::fromStdString(components[1].version).startsWith(QStringLiteral(QT_VERSION_STR)));
        // The DCMTK command-line tools come from the same Debian source package as the library.
        const QString dcmdump = QStandardPaths::findExecutable(QStringLiteral("dcmdump"));
        if (dcmdump.isEmpty())
            QFAIL("dcmdump not found: install Debian's dcmtk (scripts/setup.sh lists it)");
        QProcess p;
        p.start(dcmdump, {QStringLiteral("--version")});
        QVERIFY(p.waitForFinished(10000));
        const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
        QVERIFY2(out.contains(QStringLiteral(" v") + QString::fromStdString(components[2].version) + QLatin1Char(' ')), qPrintable(out));
    }

    void deviceSummaryMatchesCuda()
    {
        const QString device = QString::fromStdString(ei::BuildInfo::deviceSummary());
        if (torch::cuda::device_count() > 0)
            QVERIFY2(device.startsWith(QStringLiteral("CUDA (%1 device").arg(torch::cuda::device_count())), qPrintable(device));
        else
            QVERIFY2(device.startsWith(QStringLiteral("CPU (no CUDA device found)")), qPrintable(device));
        QVERIFY2(device.contains(QRegularExpression(QStringLiteral(", CPU: \\d+ LibTorch intra-op( \\+ \\d+ OpenBLAS)? threads?$"))), qPrintable(device));
    }

    void blasIsTheOneTorchLoaded()
    {
        // Debian resolves libblas.so.3 through alternatives; LibTorch has it loaded by now.
        const QString blas = QString::fromStdString(ei::BuildInfo::blasLibrary());
        const QString resolved = QFileInfo(QStringLiteral("/usr/lib/x86_64-linux-gnu/libblas.so.3")).canonicalFilePath();
        QVERIFY2(!resolved.isEmpty(), "no /usr/lib/x86_64-linux-gnu/libblas.so.3: Debian's LibTorch needs a BLAS");
        QVERIFY2(blas.contains(resolved), qPrintable(blas + " vs " + resolved));
        QCOMPARE(blas.startsWith(QStringLiteral("OpenBLAS")), resolved.contains(QStringLiteral("openblas")));
    }

    void versionReportLines()
    {
        const QStringList lines = QString::fromStdString(ei::BuildInfo::versionReport("eiview")).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 8);
        QCOMPARE(lines[0], QStringLiteral("eiview " EIVIEW_VERSION_STRING));
        QVERIFY(lines[1].startsWith(QStringLiteral("LibTorch: ")));
        QVERIFY(lines[5].startsWith(QStringLiteral("OpenCV: ")));
        QVERIFY(lines[6].startsWith(QStringLiteral("Device: ")));
        QVERIFY(lines[7].startsWith(QStringLiteral("BLAS: ")));
    }
};

EI_REGISTER_TEST(BuildInfoTest);
#include "BuildInfoTest.moc"
