// Fine-tuning on several machines from the wizard (issue 17). The wizard logs in nowhere:
// it writes the run's TRAIN.json and prints the exact command for each machine, one line
// per node with rank 0 first (docs/distributed.md); ProgressFollower then watches rank 0's
// progress.jsonl, local or on a shared file system, and feeds the same live curves as a
// local run.
#pragma once

#include "core/training/TrainingJob.h"

#include <QObject>
#include <QString>
#include <QStringList>

class QTimer;

namespace ei {

struct LaunchPlan {
    QString configPath;   // where the TRAIN.json the commands name is (written by writeLaunchConfig)
    QStringList commands; // one shell line per node, rank 0 first
};

// The commands that start `request` (manifest, backbone, run folder, TRAIN.json text) on
// `hosts` (rank 0 first; its address is MASTER_ADDR) with rendezvous on `port`, one rank per
// host; `program` is eiview-cli as the nodes find it. Paths are absolute and must be the
// same on every machine (a shared file system, or copies at the same place). Throws
// ei::UsageError for no host, a host with blanks, or a port outside 1..65535.
LaunchPlan launchPlan(const TrainingRequest& request, const QStringList& hosts, int port,
                      const QString& program = QStringLiteral("eiview-cli"));
// Writes plan.configPath (the request's TRAIN.json) atomically; BadInputError naming the
// file when it cannot.
void writeLaunchConfig(const TrainingRequest& request, const LaunchPlan& plan);

// `text` as one shell word (single quotes where needed).
QString shellWord(const QString& text);

// Follows RUN_DIR/progress.jsonl as rank 0 appends to it: every complete new line once,
// in order. A file that got shorter (a resumed run cuts it back to its checkpoint) starts
// again from the beginning, after restarted().
class ProgressFollower : public QObject {
    Q_OBJECT
public:
    explicit ProgressFollower(QObject* parent = nullptr);
    // Starts following (from the file's beginning); polls every `intervalMs`.
    void follow(const QString& runDir, int intervalMs = 500);
    void stop();
    bool isFollowing() const;
    QString runDir() const { return runDir_; }
    // Reads what is new now (the timer calls it; tests call it directly).
    void poll();

Q_SIGNALS:
    void eventReceived(const QString& jsonLine);
    void restarted();

private:
    QString runDir_;
    qint64 offset_ = 0;
    QByteArray partial_;  // a line rank 0 has not finished writing
    QTimer* timer_;
};

}  // namespace ei
