// See Measurement.h.
#include "core/view/Measurement.h"

#include "core/view/MapSampling.h"

#include <algorithm>
#include <cmath>

namespace ei {

namespace {

bool hasSpacing(const Image& im) { return im.hasGeometry && im.spacing[0] > 0 && im.spacing[1] > 0; }

// A vector between image points in mm (spacing known) or pixels.
QPointF physical(QPointF d, const Image& im)
{
    return hasSpacing(im) ? QPointF(d.x() * im.spacing[0], d.y() * im.spacing[1]) : d;
}

}  // namespace

QString measureKindName(MeasureKind kind)
{
    switch (kind) {
    case MeasureKind::Distance: return QStringLiteral("Distance");
    case MeasureKind::Angle: return QStringLiteral("Angle");
    case MeasureKind::Rectangle: return QStringLiteral("Rectangle");
    case MeasureKind::Ellipse: return QStringLiteral("Ellipse");
    }
    return {};
}

double measuredLength(const Measurement& m, const Image& image, bool* millimetres)
{
    if (millimetres)
        *millimetres = hasSpacing(image);
    if (m.points.size() < 2)
        return 0.0;
    const QPointF d = physical(m.points[1] - m.points[0], image);
    return std::hypot(d.x(), d.y());
}

double measuredAngle(const Measurement& m, const Image& image)
{
    if (m.points.size() < 3)
        return 0.0;
    const QPointF a = physical(m.points[0] - m.points[1], image), b = physical(m.points[2] - m.points[1], image);
    const double na = std::hypot(a.x(), a.y()), nb = std::hypot(b.x(), b.y());
    if (na <= 0 || nb <= 0)
        return 0.0;
    const double c = std::clamp((a.x() * b.x() + a.y() * b.y()) / (na * nb), -1.0, 1.0);
    return std::acos(c) * 180.0 / M_PI;
}

RegionStats regionStats(const Measurement& m, const Image& im, const SimilarityMap* map, int mapSlice)
{
    RegionStats st;
    st.millimetres = hasSpacing(im);
    if (m.points.size() < 2 || im.width <= 0 || im.height <= 0 || m.slice < 0 || m.slice >= std::max(1, im.slices))
        return st;
    const double x0 = std::min(m.points[0].x(), m.points[1].x()), x1 = std::max(m.points[0].x(), m.points[1].x());
    const double y0 = std::min(m.points[0].y(), m.points[1].y()), y1 = std::max(m.points[0].y(), m.points[1].y());
    const QPointF size = physical(QPointF(x1 - x0, y1 - y0), im);
    st.area = m.kind == MeasureKind::Ellipse ? M_PI / 4.0 * size.x() * size.y() : size.x() * size.y();
    const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, rx = (x1 - x0) / 2, ry = (y1 - y0) / 2;
    double sum = 0, sum2 = 0, mapSum = 0;
    st.min = INFINITY;
    st.max = -INFINITY;
    const bool withMap = map && mapSlice >= 0 && mapSlice < map->slices;
    for (int y = std::max(0, int(std::floor(y0))); y < std::min(im.height, int(std::ceil(y1)) + 1); ++y) {
        for (int x = std::max(0, int(std::floor(x0))); x < std::min(im.width, int(std::ceil(x1)) + 1); ++x) {
            const double px = x + 0.5, py = y + 0.5;
            bool inside = px >= x0 && px <= x1 && py >= y0 && py <= y1;
            if (inside && m.kind == MeasureKind::Ellipse)
                inside = rx > 0 && ry > 0 && std::pow((px - cx) / rx, 2) + std::pow((py - cy) / ry, 2) <= 1.0;
            if (!inside)
                continue;
            double v = 0;
            const int channels = std::max(1, im.channels >= 3 ? 3 : 1);
            for (int c = 0; c < channels; ++c)
                v += im.at(m.slice, y, x, c);
            v /= channels;
            sum += v;
            sum2 += v * v;
            st.min = std::min(st.min, v);
            st.max = std::max(st.max, v);
            if (withMap)
                mapSum += sampleMapAtImagePixel(*map, mapSlice, x, y, im.width, im.height);
            ++st.pixels;
        }
    }
    if (st.pixels == 0) {
        st.min = st.max = 0;
        return st;
    }
    st.mean = sum / st.pixels;
    st.sd = st.pixels > 1 ? std::sqrt(std::max(0.0, (sum2 - sum * sum / st.pixels) / (st.pixels - 1))) : 0.0;
    if (withMap)
        st.mapMean = mapSum / st.pixels;
    return st;
}

QString describeMeasurement(const Measurement& m, const Image& image, const SimilarityMap* map, int mapSlice)
{
    QString where = image.isVolume() ? QStringLiteral("%1 slice %2").arg(m.slot).arg(m.slice + 1) : m.slot;
    if (m.plane != Plane::Stored)
        where += QStringLiteral(" (%1)").arg(planeName(m.plane));
    switch (m.kind) {
    case MeasureKind::Distance: {
        bool mm = false;
        const double len = measuredLength(m, image, &mm);
        return QStringLiteral("%1  Distance %2 %3").arg(where, QString::number(len, 'f', mm ? 1 : 0), mm ? "mm" : "px (no pixel spacing)");
    }
    case MeasureKind::Angle:
        return QStringLiteral("%1  Angle %2\u00b0").arg(where, QString::number(measuredAngle(m, image), 'f', 1));
    case MeasureKind::Rectangle:
    case MeasureKind::Ellipse: {
        const RegionStats s = regionStats(m, image, map, mapSlice);
        QString text = QStringLiteral("%1  %2: area %3 %4, %9mean %5, SD %6, min %7, max %8")
                           .arg(where, measureKindName(m.kind), QString::number(s.area, 'f', s.millimetres ? 1 : 0),
                                s.millimetres ? QStringLiteral("mm\u00b2") : QStringLiteral("px\u00b2"))
                           .arg(s.mean, 0, 'g', 5)
                           .arg(s.sd, 0, 'g', 4)
                           .arg(s.min, 0, 'g', 5)
                           .arg(s.max, 0, 'g', 5)
                           .arg(image.channels >= 3 ? QStringLiteral("grey (mean of R, G, B) ") : QString());
        if (s.mapMean)
            text += QStringLiteral(", heat map mean %1 (%2)").arg(*s.mapMean, 0, 'f', 3).arg(QString::fromStdString(map->kind));
        return text;
    }
    }
    return {};
}

int MeasurementList::add(Measurement m)
{
    m.id = nextId_++;
    items_.push_back(m);
    Q_EMIT changed();
    return m.id;
}

void MeasurementList::remove(int id)
{
    const auto n = items_.size();
    items_.erase(std::remove_if(items_.begin(), items_.end(), [id](const Measurement& m) { return m.id == id; }), items_.end());
    if (items_.size() != n)
        Q_EMIT changed();
}

void MeasurementList::clear()
{
    if (!items_.isEmpty()) {
        items_.clear();
        Q_EMIT changed();
    }
}

void MeasurementList::clearSlot(const QString& slot)
{
    const auto n = items_.size();
    items_.erase(std::remove_if(items_.begin(), items_.end(), [&](const Measurement& m) { return m.slot == slot; }), items_.end());
    if (items_.size() != n)
        Q_EMIT changed();
}

void MeasurementList::swapSlots(const QString& a, const QString& b)
{
    bool any = false;
    for (Measurement& m : items_) {
        if (m.slot == a || m.slot == b) {
            m.slot = m.slot == a ? b : a;
            any = true;
        }
    }
    if (any)
        Q_EMIT changed();
}

QVector<Measurement> MeasurementList::on(const QString& slot, int slice, Plane plane) const
{
    QVector<Measurement> out;
    for (const Measurement& m : items_)
        if (m.slot == slot && m.slice == slice && m.plane == plane)
            out.push_back(m);
    return out;
}

}  // namespace ei
