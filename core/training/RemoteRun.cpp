#include "core/training/RemoteRun.h"

#include "models/Error.h"
#include "models/io/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTimer>

namespace ei {

QString shellWord(const QString& text)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./:=@%+,-]+$"));
    if (plain.match(text).hasMatch())
        return text;
    QString quoted = text;
    quoted.replace(QStringLiteral("'"), QStringLiteral("'\\''"));
    return QStringLiteral("'") + quoted + QStringLiteral("'");
}

LaunchPlan launchPlan(const TrainingRequest& request, const QStringList& hosts, int port, const QString& program)
{
    if (hosts.isEmpty())
        throw UsageError("name at least one machine (rank 0 first)");
    for (const QString& host : hosts)
        if (host.isEmpty() || host.contains(QRegularExpression(QStringLiteral("\\s"))))
            throw UsageError("'" + host.toStdString() + "' is not a host name");
    if (port < 1 || port > 65535)
        throw UsageError("the rendezvous port must be 1 to 65535");
    const QString out = QFileInfo(QString::fromStdString(request.outDir)).absoluteFilePath();
    LaunchPlan plan;
    plan.configPath = out + QStringLiteral(".train.json");
    QStringList args{program, QStringLiteral("train"), QStringLiteral("--manifest"),
                     QFileInfo(QString::fromStdString(request.manifestPath)).absoluteFilePath(),
                     QStringLiteral("--config"), plan.configPath};
    if (!request.backbonePath.empty())
        args << QStringLiteral("--backbone") << QFileInfo(QString::fromStdString(request.backbonePath)).absoluteFilePath();
    args << QStringLiteral("--out") << out;
    if (!request.precision.empty())
        args << QStringLiteral("--precision") << QString::fromStdString(request.precision);
    QStringList words;
    for (const QString& a : args)
        words << shellWord(a);
    for (int rank = 0; rank < hosts.size(); ++rank)
        plan.commands << QStringLiteral("MASTER_ADDR=%1 MASTER_PORT=%2 WORLD_SIZE=%3 RANK=%4 LOCAL_RANK=0 %5  # on %6")
                             .arg(shellWord(hosts.front()))
                             .arg(port)
                             .arg(hosts.size())
                             .arg(rank)
                             .arg(words.join(QLatin1Char(' ')), hosts[rank]);
    return plan;
}

void writeLaunchConfig(const TrainingRequest& request, const LaunchPlan& plan)
{
    std::string text = request.configJson;
    if (text.empty()) {  // a request made from a TRAIN.json file: the same file, copied
        QFile in(QString::fromStdString(request.configPath));
        if (!in.open(QIODevice::ReadOnly))
            throw BadInputError(request.configPath, "cannot be read");
        text = in.readAll().toStdString();
    }
    writeFileAtomically(plan.configPath.toStdString(), text + "\n");
}

ProgressFollower::ProgressFollower(QObject* parent) : QObject(parent), timer_(new QTimer(this))
{
    connect(timer_, &QTimer::timeout, this, &ProgressFollower::poll);
}

void ProgressFollower::follow(const QString& runDir, int intervalMs)
{
    runDir_ = runDir;
    offset_ = 0;
    partial_.clear();
    timer_->start(intervalMs);
    poll();
}

void ProgressFollower::stop() { timer_->stop(); }

bool ProgressFollower::isFollowing() const { return timer_->isActive(); }

void ProgressFollower::poll()
{
    QFile file(QDir(runDir_).filePath(QStringLiteral("progress.jsonl")));
    if (!file.open(QIODevice::ReadOnly))
        return;  // not there yet: rank 0 creates it when it starts
    if (file.size() < offset_) {
        offset_ = 0;
        partial_.clear();
        Q_EMIT restarted();
    }
    file.seek(offset_);
    const QByteArray fresh = file.readAll();
    offset_ += fresh.size();
    partial_ += fresh;
    int start = 0;
    for (int nl; (nl = partial_.indexOf('\n', start)) >= 0; start = nl + 1) {
        const QByteArray line = partial_.mid(start, nl - start).trimmed();
        if (!line.isEmpty())
            Q_EMIT eventReceived(QString::fromUtf8(line));
    }
    partial_.remove(0, start);
}

}  // namespace ei
