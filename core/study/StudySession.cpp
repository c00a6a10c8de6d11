// See StudySession.h.
#include "core/study/StudySession.h"

#include "core/view/LabelMask.h"
#include "core/view/MapSampling.h"
#include "core/view/Measurement.h"

#include "core/inference/InferenceJob.h"
#include "core/jobs/LoadJob.h"
#include "core/jobs/TaskList.h"
#include "core/report/ExportReport.h"
#include "core/study/RecentItems.h"
#include "models/Error.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace ei {

StudySession::StudySession(QObject* parent) : QObject(parent)
{
    inference_ = new InferenceJob(this);
    loader_ = new LoadJob(this);
    recent_ = new RecentItems(this);
    tasks_ = new TaskList(this);
    measurements_ = new MeasurementList(this);
    tasks_->watch(inference_);
    tasks_->watch(loader_);

    connect(inference_, &InferenceJob::modelReady, this,
            [this](quint64 ticket, const ModelSummary& s, const QString& device) {
                if (ticket == modelTicket_)
                    onModelReady(s, device);
            });
    connect(inference_, &InferenceJob::progress, this, [this](quint64 ticket, double f, const QString& stage) {
        if (ticket == runTicket_)
            Q_EMIT runProgress(f, stage);
    });
    connect(inference_, &InferenceJob::finished, this, [this](quint64 ticket, std::shared_ptr<const InferenceResult> r) {
        if (ticket != runTicket_)
            return;  // a run for a study that has since changed
        lastRunSeconds_ = double(QDateTime::currentMSecsSinceEpoch() - runStartedMs_) / 1000.0;
        cache_.insert(cacheKey(), r);
        setResult(r);
        setNotice({});
        Q_EMIT inferenceFinished();
    });
    connect(inference_, &InferenceJob::attributed, this, [this](quint64 ticket, std::shared_ptr<const AttributionResult> a) {
        if (ticket != runTicket_ || !result_)
            return;
        auto merged = std::make_shared<const InferenceResult>(withAttribution(*result_, std::move(a)));
        cache_.insert(cacheKey(), merged);
        setResult(merged);
        setNotice({});
        Q_EMIT attributionFinished();
    });
    connect(inference_, &InferenceJob::failed, this, [this](quint64 ticket, const QString& message) {
        if (ticket == modelTicket_) {
            setNotice(tr("Could not load the model: %1").arg(message));
            Q_EMIT modelFailed(message);
        } else if (ticket == runTicket_) {
            setNotice((runIsAttribution_ ? tr("Pixel attribution failed: %1") : tr("Inference failed: %1")).arg(message));
            Q_EMIT inferenceFailed(message);
        }
    });
    connect(inference_, &InferenceJob::cancelled, this, [this](quint64 ticket) {
        if (ticket == runTicket_) {
            setNotice(runIsAttribution_ ? tr("Pixel attribution cancelled.") : tr("Inference cancelled."), false);
            Q_EMIT inferenceCancelled();
        }
    });
    connect(inference_, &InferenceJob::busyChanged, this, &StudySession::busyChanged);

    connect(loader_, &LoadJob::maskLoaded, this, [this](quint64 ticket, std::shared_ptr<const Image> m, const QString& problem) {
        const auto it = maskLoads_.find(ticket);
        if (it == maskLoads_.end())
            return;
        const QString slot = it->second;
        maskLoads_.erase(it);
        if (!m) {
            setNotice(tr("Could not open the mask:\n%1").arg(problem));
            return;
        }
        const auto image = slotImage(slot);
        if (!image || image->width != m->width || image->height != m->height)
            return;  // the image changed meanwhile
        masks_[slot] = m;
        setNotice({});
        Q_EMIT maskChanged(slot);
    });
    connect(loader_, &LoadJob::loaded, this, [this](quint64 ticket, std::shared_ptr<const LoadOutcome> outcome) {
        onLoaded(ticket, *outcome);
    });
    connect(loader_, &LoadJob::failed, this, [this](quint64 ticket, const QString& message) {
        if (loads_.erase(ticket)) {
            setNotice(tr("Could not open:\n%1").arg(message));
            Q_EMIT filesOpened(ticket, {message});
        }
    });
    connect(loader_, &LoadJob::cancelled, this, [this](quint64 ticket) {
        if (loads_.erase(ticket)) {
            setNotice(tr("Opening cancelled."), false);
            Q_EMIT filesOpened(ticket, {tr("cancelled")});
        }
    });
}

StudySession::~StudySession() { shutdown(); }

void StudySession::shutdown()
{
    loader_->shutdown();
    inference_->shutdown();
}

// ---- model ---------------------------------------------------------------------------

void StudySession::openModel(const QString& path)
{
    modelPath_ = path;
    Q_EMIT modelLoading(path);
    modelTicket_ = inference_->loadModel(path, device_, precision_);
}

void StudySession::reloadModelWith(QString& setting, const QString& value)
{
    if (value == setting)
        return;
    setting = value;
    if (!modelPath_.isEmpty())
        openModel(modelPath_);
}

void StudySession::setPrecision(const QString& precision)
{
    reloadModelWith(precision_, precision);
}

void StudySession::setDevice(const QString& device)
{
    reloadModelWith(device_, device);
}

void StudySession::onModelReady(const ModelSummary& summary, const QString& device)
{
    const bool sameModel = hasModel() && model_.fingerprint == summary.fingerprint;
    model_ = summary;
    resolvedDevice_ = device;
    recent_->add(RecentItems::Models, QString::fromStdString(summary.path));
    if (!sameModel) {
        std::vector<StudySlot> wanted;
        for (const auto& m : summary.modalities)
            wanted.push_back({m.name, m.kind});
        setSlots(wanted);
    }
    setResult(cache_.find(cacheKey()));
    Q_EMIT modelLoaded();
    maybeAutoRun();
}

// ---- study ---------------------------------------------------------------------------

QStringList StudySession::slotNames() const
{
    QStringList names;
    for (const auto& s : study_.slots())
        names << QString::fromStdString(s.name);
    return names;
}

QString StudySession::slotKind(const QString& slot) const
{
    for (const auto& s : study_.slots())
        if (s.name == slot.toStdString())
            return QString::fromStdString(s.kind);
    return {};
}

std::shared_ptr<const Image> StudySession::slotImage(const QString& slot) const { return study_.imagePtr(slot.toStdString()); }

QString StudySession::slotPath(const QString& slot) const { return QString::fromStdString(study_.path(slot.toStdString())); }

void StudySession::setSlots(const std::vector<StudySlot>& slots)
{
    // The images already open find their places among the new slots.
    std::vector<Study::Candidate> open;
    for (const auto& s : study_.slots())
        if (study_.has(s.name))
            open.push_back({study_.imagePtr(s.name), study_.path(s.name)});
    study_ = Study(slots);
    Q_EMIT slotsChanged();
    place(open);
}

std::vector<bool> StudySession::place(const std::vector<Study::Candidate>& candidates)
{
    QStringList unplaced;
    std::vector<bool> placed;
    bool slotsAdded = false;
    for (const auto& c : candidates) {
        placed.push_back(true);
        if (!study_.place({c}).front().empty())
            continue;
        if (!hasModel()) {  // no model yet: one slot per image, whatever its tags say
            const std::string name = "Image " + std::to_string(study_.slots().size() + 1);
            study_.addSlot({name, c.image->isVolume() ? "volume" : "image"});
            study_.assign(name, c.image, c.path);
            slotsAdded = true;
            continue;
        }
        placed.back() = false;
        unplaced << QFileInfo(QString::fromStdString(c.path)).fileName();
    }
    if (slotsAdded)
        Q_EMIT slotsChanged();
    Q_EMIT studyChanged();
    if (!unplaced.isEmpty())
        setNotice(tr("No free slot fits %1; drop it onto a slot to replace that slot's image.").arg(unplaced.join(", ")));
    return placed;
}

quint64 StudySession::openFiles(const QStringList& paths)
{
    const quint64 ticket = loader_->open(paths);
    loads_[ticket] = {QString(), false, {}};
    return ticket;
}

quint64 StudySession::openStudy(const QStringList& paths)
{
    if (!paths.isEmpty())
        studySource_ = paths.front();
    const quint64 ticket = loader_->open(paths);
    QStringList recent;
    for (const QString& p : paths)
        if (QFileInfo(p).isDir())
            recent << p;  // the folder stands for the study
    loads_[ticket] = {QString(), true, recent};
    return ticket;
}

quint64 StudySession::assignFile(const QString& slot, const QString& path)
{
    const quint64 ticket = loader_->open({path});
    loads_[ticket] = {slot, false, {path}};
    return ticket;
}

void StudySession::cancelLoading()
{
    for (const auto& [ticket, load] : loads_)
        loader_->cancel(ticket);
}

bool StudySession::isLoading() const { return !loads_.empty(); }

void StudySession::onLoaded(quint64 ticket, const LoadOutcome& outcome)
{
    const auto it = loads_.find(ticket);
    if (it == loads_.end())
        return;
    const PendingLoad load = it->second;
    loads_.erase(it);
    QStringList problems = outcome.problems;
    QStringList recent = load.recent;
    bool changed = false, allPlaced = true;
    if (!load.slot.isEmpty()) {
        if (!outcome.images.empty()) {
            try {
                study_.assign(load.slot.toStdString(), outcome.images.front().image, outcome.images.front().path.toStdString());
                dropAnnotations(load.slot);
                changed = true;
            } catch (const std::exception& e) {
                problems << QString::fromStdString(e.what());
            }
        }
        if (changed) {
            Q_EMIT studyChanged();
            setNotice({});
        }
    } else if (!outcome.images.empty()) {
        if (load.replace) {
            study_.clearAll();
            dropAnnotations({});
            setNotice({});
        }
        std::vector<Study::Candidate> candidates;
        for (const auto& im : outcome.images)
            candidates.push_back({im.image, im.path.toStdString()});
        const std::vector<bool> placed = place(candidates);
        allPlaced = std::find(placed.begin(), placed.end(), false) == placed.end();
        // Recent: what is in the study now (the study folder, or each file that found a slot).
        if (std::find(placed.begin(), placed.end(), true) == placed.end())
            recent.clear();
        else if (recent.isEmpty())
            for (std::size_t i = 0; i < placed.size(); ++i)
                if (placed[i] && !recent.contains(outcome.images[i].path))
                    recent << outcome.images[i].path;
        changed = true;
    }
    if (changed) {
        studyEdited();
        for (const QString& p : recent)
            recent_->add(RecentItems::Studies, p);
    }
    if (!problems.isEmpty())
        setNotice(tr("Could not open:\n%1").arg(problems.join('\n')));
    else if (changed && allPlaced)
        setNotice({});  // an old problem is not news after this success
    Q_EMIT filesOpened(ticket, problems);
    if (problems.isEmpty())
        maybeAutoRun();
}

void StudySession::clearSlot(const QString& slot)
{
    study_.clear(slot.toStdString());
    dropAnnotations(slot);
    Q_EMIT studyChanged();
    studyEdited();
}

void StudySession::moveSlot(const QString& from, const QString& to)
{
    const QStringList names = slotNames();
    if (from == to || !names.contains(from) || !names.contains(to))
        return;
    study_.swap(from.toStdString(), to.toStdString());
    measurements_->swapSlots(from, to);
    std::swap(masks_[from], masks_[to]);
    Q_EMIT maskChanged(from);
    Q_EMIT maskChanged(to);
    Q_EMIT studyChanged();
    studyEdited();
}

void StudySession::closeStudy()
{
    cancelLoading();
    study_.clearAll();
    dropAnnotations({});
    Q_EMIT studyChanged();
    studyEdited();
}

void StudySession::studyEdited()
{
    // A run still in flight is for the old study: stop it and drop its result.
    if (isRunning()) {
        inference_->cancel(runTicket_);
        Q_EMIT inferenceCancelled();
    }
    runTicket_ = 0;  // its late answer is ignored
    setResult(cache_.find(cacheKey()));
}

// ---- running ---------------------------------------------------------------------------

std::string StudySession::cacheKey() const
{
    return ResultCache::key(study_.files(), model_.fingerprint,
                            resolvedDevice_.toStdString() + " " + model_.precision);
}

bool StudySession::run()
{
    QString reason;
    if (!hasModel())
        reason = tr("No model is loaded: open a model (.eimodel) first (Ctrl+M).");
    // A study may leave modalities out (the model then runs without them and the result
    // says so), but not all of them.
    QStringList empty;
    for (const auto& s : study_.missingSlots())
        empty << QString::fromStdString(s);
    if (reason.isEmpty() && empty.size() == static_cast<int>(study_.slots().size()))
        reason = tr("Cannot run: every slot is empty. Drop a file onto a slot or use File \u203a Open.");
    if (reason.isEmpty() && isRunning())
        reason = tr("A run is in progress.");
    if (!reason.isEmpty()) {
        setNotice(reason);
        Q_EMIT runRefused(reason);
        return false;
    }
    if (auto cached = cache_.find(cacheKey())) {
        setResult(cached);
        Q_EMIT statusMessage(tr("Result from the cache (same files, model and device)."));
        Q_EMIT inferenceFinished();
        return true;
    }
    runIsAttribution_ = false;
    setNotice(empty.isEmpty() ? QString()
                              : tr("Running without %1: %2 empty. The prediction will be computed from the other "
                                   "modalities and marked so.")
                                    .arg(empty.join(QStringLiteral(", ")), empty.size() == 1 ? tr("its slot is")
                                                                                           : tr("their slots are")),
              !empty.isEmpty());
    runStartedMs_ = QDateTime::currentMSecsSinceEpoch();
    runTicket_ = inference_->run(study_.inputs(), true);
    Q_EMIT runStarted();
    return true;
}

bool StudySession::computeAttribution(int targetIndex, int steps, const QString& baseline)
{
    QString reason;
    if (!result_)
        reason = tr("Run the model first: pixel attributions explain a result.");
    else if (isRunning())
        reason = tr("A run is in progress.");
    if (!reason.isEmpty()) {
        setNotice(reason);
        Q_EMIT runRefused(reason);
        return false;
    }
    InferenceRunner::AttributionRequest request;
    request.targetIndex = targetIndex;
    request.steps = steps;
    request.baseline = baseline.toStdString();
    runIsAttribution_ = true;
    runStartedMs_ = QDateTime::currentMSecsSinceEpoch();
    runTicket_ = inference_->attribute(study_.inputs(), request);
    Q_EMIT runStarted();
    return true;
}

bool StudySession::isRunning() const { return runTicket_ != 0 && inference_->isActive(runTicket_); }

void StudySession::cancelRun()
{
    if (isRunning())
        inference_->cancel(runTicket_);
}

void StudySession::setRunWhenReady(bool on)
{
    runWhenReady_ = on;
    maybeAutoRun();
}

void StudySession::maybeAutoRun()
{
    if (!runWhenReady_ || !hasModel() || study_.slots().empty() || isLoading())
        return;  // (a load in flight calls again when it is done)
    runWhenReady_ = false;  // one attempt: an empty slot is reported, not waited for
    run();
}

void StudySession::setResult(std::shared_ptr<const InferenceResult> result)
{
    if (result == result_)
        return;
    exported_ = false;
    result_ = std::move(result);
    Q_EMIT resultChanged();
}

void StudySession::setNotice(const QString& text, bool warning)
{
    if (text == notice_ && warning == noticeWarning_)
        return;
    notice_ = text;
    noticeWarning_ = warning;
    Q_EMIT noticeChanged();
}

// ---- export ----------------------------------------------------------------------------

void StudySession::exportResult(const QByteArray& png, const QString& pngPath, const QString& jsonPath,
                                bool includePatientIdentifiers, const QByteArray& pdf, const QString& pdfPath,
                                const std::map<QString, QString>& mapKinds)
{
    if (!result_)
        throw UsageError("nothing to export: run the model first (F5)");
    ExportReport report(*result_, model_);
    for (const auto& s : study_.slots())
        report.addInput({s.name, study_.path(s.name), study_.imagePtr(s.name).get()});
    for (const Measurement& m : measurements_->all())
        if (const auto at = measurementContext(m, mapKinds))
            report.addMeasurement(m, *at->image, at->map, at->mapSlice);
    ExportReport::writePng(pngPath.toStdString(), png.toStdString());
    report.writeJson(jsonPath.toStdString(), includePatientIdentifiers);
    if (!pdfPath.isEmpty())
        ExportReport::writePdf(pdfPath.toStdString(), pdf.toStdString());
    exported_ = true;
}

QStringList StudySession::studySequence() const
{
    const QFileInfo source(studySource_);
    if (!studySource_.isEmpty() && source.isDir()) {
        QDir parent = source.absoluteDir();
        QStringList dirs = parent.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name | QDir::IgnoreCase);
        QStringList out;
        for (const QString& d : dirs)
            out << parent.filePath(d);
        return out;
    }
    QStringList recent = recent_->items(RecentItems::Studies);
    std::reverse(recent.begin(), recent.end());  // oldest first, like a worklist
    return recent;
}

quint64 StudySession::openAdjacentStudy(int direction)
{
    const QStringList sequence = studySequence();
    QString current = studySource_;
    if (QFileInfo(current).isDir())
        current = QFileInfo(current).absoluteFilePath();
    const int at = static_cast<int>(sequence.indexOf(current));
    const int next = at < 0 ? (direction > 0 ? 0 : static_cast<int>(sequence.size()) - 1) : at + direction;
    if (next < 0 || next >= sequence.size() || sequence.isEmpty()) {
        setNotice(direction > 0 ? tr("This is the last study in the list.") : tr("This is the first study in the list."), false);
        return 0;
    }
    return openStudy({sequence[next]});
}

bool StudySession::hasUnsavedWork() const { return isRunning() || (result_ && !exported_); }

}  // namespace ei
