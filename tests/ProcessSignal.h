// Signals to a child process that a test started, safely.
#pragma once

#include <QProcess>

#include <signal.h>
#include <sys/types.h>

namespace ei::test {

// Sends `sig` to the process of `p` while it runs; false when it has already ended.
// QProcess::processId() is 0 once the process has ended, and kill(0, sig) signals the
// caller's whole process group: the test, ctest and the shell around them (a SIGKILL
// meant for a child that finished early once took down a whole CTest run this way).
inline bool signalIfRunning(QProcess& p, int sig)
{
    const qint64 pid = p.processId();
    if (pid <= 0 || p.state() == QProcess::NotRunning)
        return false;
    return ::kill(static_cast<pid_t>(pid), sig) == 0;
}

}  // namespace ei::test
