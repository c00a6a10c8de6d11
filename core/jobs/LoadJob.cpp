// See LoadJob.h.
#include "core/jobs/LoadJob.h"

#include "core/view/LabelMask.h"

#include "core/io/DicomLoader.h"  // hasDicomPreamble
#include "core/io/ImageLoader.h"

#include <QDir>
#include <QFileInfo>

namespace ei {

namespace {

bool isImageFileName(const QString& name)
{
    static const QStringList skip{QStringLiteral("json"), QStringLiteral("txt"), QStringLiteral("md"),
                                  QStringLiteral("csv"), QStringLiteral("eimodel"), QStringLiteral("safetensors"),
                                  QStringLiteral("py"), QStringLiteral("sh")};
    const QFileInfo fi(name);
    return !skip.contains(fi.suffix().toLower()) && !fi.fileName().startsWith('.');
}

}  // namespace

LoadJob::LoadJob(QObject* parent) : WorkerQueue(parent) {}

QStringList LoadJob::expandStudyFolder(const QString& dir)
{
    QStringList paths;
    bool hasDicomFiles = false;
    for (const QFileInfo& fi : QDir(dir).entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        if (!fi.isDir() && !isImageFileName(fi.fileName()))
            continue;
        if (fi.isFile() && fi.fileName().toUpper() == QLatin1String("DICOMDIR"))
            return {fi.absoluteFilePath()};
        if (fi.isFile() && !hasDicomFiles && hasDicomPreamble(fi.absoluteFilePath().toStdString()))
            hasDicomFiles = true;
        paths << fi.absoluteFilePath();
    }
    if (hasDicomFiles)
        return {dir};  // the folder is a series (or several)
    return paths;
}

quint64 LoadJob::open(const QStringList& paths)
{
    const QString title = paths.size() == 1 ? tr("Opening %1").arg(QFileInfo(paths.first()).fileName())
                                            : tr("Opening %1 files").arg(paths.size());
    return submit(title, [this, paths = paths](const JobControl& control) mutable -> Deliver {
        // A study folder stands for what is in it (a series folder or DICOMDIR for itself).
        auto outcome = std::make_shared<LoadOutcome>();
        for (int i = paths.size() - 1; i >= 0; --i)
            if (QFileInfo(paths[i]).isDir()) {
                const QStringList inside = expandStudyFolder(paths[i]);
                if (inside.isEmpty())
                    outcome->problems << tr("%1: holds no image files").arg(paths[i]);
                paths.removeAt(i);
                for (int k = inside.size() - 1; k >= 0; --k)
                    paths.insert(i, inside[k]);
            }
        const double n = std::max(1, int(paths.size()));
        for (int i = 0; i < paths.size(); ++i) {
            const QString& path = paths[i];
            const std::string p = path.toStdString();
            const JobControl part = control.part(i / n, (i + 1) / n);
            part.checkpoint(0.0, QFileInfo(path).fileName().toStdString());
            try {
                if (QFileInfo(path).isDir() || isDicomDirFile(p)) {
                    for (Image& series : loadEverySeries(p, &part))  // every series is an image
                        outcome->images.push_back({std::make_shared<const Image>(std::move(series)), path});
                } else {
                    outcome->images.push_back({std::make_shared<const Image>(loadImage(p, {}, &part)), path});
                }
            } catch (const Cancelled&) {
                throw;
            } catch (const std::exception& e) {
                outcome->problems << QString::fromStdString(e.what());
            }
        }
        control.checkpoint(1.0, "opened");
        return [this, outcome](quint64 ticket) { Q_EMIT loaded(ticket, outcome); };
    });
}

quint64 LoadJob::openMask(const QString& path, std::shared_ptr<const Image> target)
{
    return submit(tr("Open mask %1").arg(QFileInfo(path).fileName()), [this, path, target](const JobControl& control) -> Deliver {
        std::shared_ptr<const Image> mask;
        QString problem;
        try {
            mask = std::make_shared<const Image>(loadLabelMask(path.toStdString(), *target, &control));
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            problem = QString::fromStdString(e.what());
        }
        return [this, mask, problem](quint64 ticket) { Q_EMIT maskLoaded(ticket, mask, problem); };
    });
}

}  // namespace ei
