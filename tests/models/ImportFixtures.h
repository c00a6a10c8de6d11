// Runs tests/models/import_fixtures.py (Debian's /usr/bin/python3 + torch) into a folder,
// so that the import tests read files PyTorch itself wrote, in every naming scheme.
#pragma once

#include "tests/TestRegistry.h"

#include <QProcess>
#include <QString>
#include <QtTest>

namespace ei::test {

// kind: "backbone" or "ei". Returns an empty string on success, else the failure text.
inline QString buildImportFixtures(const QString& kind, const QString& dir)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(pythonPath(), {QString(EIVIEW_SOURCE_DIR) + "/tests/models/import_fixtures.py", kind, dir});
    if (!p.waitForFinished(300000))
        return "import_fixtures.py did not finish: " + p.errorString();
    if (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
        return "import_fixtures.py failed: " + QString::fromLocal8Bit(p.readAll());
    return {};
}

}  // namespace ei::test
