// StudySession's annotations (see StudySession.h): measurements with their numbers, and
// ground-truth masks beside the maps. Kept apart from the session's study, model and run
// logic in StudySession.cpp.
#include "core/study/StudySession.h"

#include "core/jobs/LoadJob.h"
#include "core/view/LabelMask.h"
#include "core/view/MapSampling.h"
#include "core/view/Measurement.h"

namespace ei {

std::optional<StudySession::MeasurementContext> StudySession::measurementContext(const Measurement& m,
                                                                               const std::map<QString, QString>& mapKinds) const
{
    const auto image = slotImage(m.slot);
    if (!image)
        return std::nullopt;
    // Measured in a reformat: its slices and points; the maps live on the stored grid.
    MeasurementContext at;
    at.image = reformatVolume(image, m.plane).image;
    if (result_ && m.plane == Plane::Stored)
        at.map = findMap(*result_, m.slot, mapKinds, *image, m.slice, &at.mapSlice);
    return at;
}

QStringList StudySession::measurementLines(const std::map<QString, QString>& mapKinds) const
{
    QStringList lines;
    for (const Measurement& m : measurements_->all())
        if (const auto at = measurementContext(m, mapKinds))
            lines << QStringLiteral("#%1  ").arg(m.id) + describeMeasurement(m, *at->image, at->map, at->mapSlice);
    return lines;
}

void StudySession::dropAnnotations(const QString& slot)
{
    if (slot.isEmpty()) {
        measurements_->clear();
        const auto old = masks_;
        masks_.clear();
        for (const auto& [name, m] : old)
            if (m)
                Q_EMIT maskChanged(name);
        return;
    }
    measurements_->clearSlot(slot);
    if (masks_.erase(slot))
        Q_EMIT maskChanged(slot);
}

quint64 StudySession::loadMask(const QString& slot, const QString& path)
{
    const auto image = slotImage(slot);
    if (!image) {
        setNotice(tr("Open an image in %1 before its mask.").arg(slot));
        return 0;
    }
    const quint64 ticket = loader_->openMask(path, image);
    maskLoads_[ticket] = slot;
    return ticket;
}

std::shared_ptr<const Image> StudySession::mask(const QString& slot) const
{
    const auto it = masks_.find(slot);
    return it == masks_.end() ? nullptr : it->second;
}

void StudySession::clearMask(const QString& slot)
{
    if (masks_.erase(slot))
        Q_EMIT maskChanged(slot);
}

QString StudySession::mapVsMaskText(const QString& slot, const QString& kind) const
{
    const auto m = mask(slot);
    const auto image = slotImage(slot);
    const ModalityResult* modality = result_ ? result_->modality(slot.toStdString()) : nullptr;
    if (!m || !image || !modality)
        return {};
    for (const SimilarityMap& map : modality->maps)
        if (QString::fromStdString(map.kind) == kind) {
            const auto a = mapVsMask(*modality, map, *image, *m);
            if (!a)
                return tr("%1: the mask has no label on the slices the model saw.").arg(slot);
            return tr("%1: %2 % of the hottest 10 % lies inside the mask, which covers %3 % of the image; "
                      "the peak is %4 the mask; mean %5 inside vs %6 outside.")
                .arg(slot)
                .arg(a->topShareInMask * 100.0, 0, 'f', 0)
                .arg(a->maskShare * 100.0, 0, 'f', 1)
                .arg(a->peakInMask ? tr("inside") : tr("outside"))
                .arg(a->meanInside, 0, 'f', 3)
                .arg(a->meanOutside, 0, 'f', 3);
        }
    return {};
}

}  // namespace ei
