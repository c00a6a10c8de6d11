// Opens study files off the GUI thread: files, DICOM series folders, DICOMDIRs (every
// series in them) and study folders (each image file in them), on the worker of a
// WorkerQueue, with a progress checkpoint per file (also per file of a series, so that a
// 500-file series can be cancelled at once). What cannot be opened is reported per file,
// not thrown: one broken file does not lose the others.
#pragma once

#include "core/io/Image.h"
#include "core/jobs/WorkerQueue.h"

#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace ei {

struct LoadedImage {
    std::shared_ptr<const Image> image;
    QString path;  // what was opened (the file, or the folder / DICOMDIR of a series)
};

struct LoadOutcome {
    std::vector<LoadedImage> images;
    QStringList problems;  // one line per path that could not be opened ("file: problem")
};

class LoadJob : public WorkerQueue {
    Q_OBJECT
public:
    explicit LoadJob(QObject* parent = nullptr);

    // Opens every path (a folder as expandStudyFolder says); emits loaded(ticket,
    // outcome), or cancelled(ticket).
    quint64 open(const QStringList& paths);

    // The paths a study folder stands for: its DICOMDIR, the folder itself when it holds
    // DICOM files (one or more series), else each image file in it (by name).
    static QStringList expandStudyFolder(const QString& dir);

    // A label / mask file onto `target`'s grid (core/view/LabelMask); emits maskLoaded
    // with the mask, or with nullptr and the problem.
    quint64 openMask(const QString& path, std::shared_ptr<const Image> target);

Q_SIGNALS:
    void loaded(quint64 ticket, std::shared_ptr<const ei::LoadOutcome> outcome);
    void maskLoaded(quint64 ticket, std::shared_ptr<const ei::Image> mask, const QString& problem);
};

}  // namespace ei
