// eiview-cli as the CLI tests run it: a real process, its exit code (-1 for a crash or a
// timeout) and what it printed.
#pragma once

#include "tests/TestRegistry.h"

#include <QProcess>
#include <QStringList>

namespace ei::test {

struct CliRun {
    int code = -1;
    QByteArray out, err;
};

// Waits for `process` (started) to end, at most `ms`.
inline CliRun finishCli(QProcess& process, int ms = 600000)
{
    process.waitForFinished(ms);
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAllStandardOutput(),
            process.readAllStandardError()};
}

inline CliRun runCliProcess(const QStringList& args, int ms = 600000)
{
    QProcess p;
    p.start(cliPath(), args);
    return finishCli(p, ms);
}

}  // namespace ei::test
