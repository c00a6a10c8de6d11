// Viewport painting: the image and overlay through imageTransform(), then the
// annotations (corner text, orientation letters, colour bar) laid out so they never
// overlap. See Viewport.h.
#include "ui/viewer/Viewport.h"

#include <QFileInfo>
#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace ei {

namespace {
const QColor kBackground(0x12, 0x13, 0x15);
const QColor kText(0xd8, 0xdb, 0xe0);
const QColor kDim(0x8a, 0x90, 0x99);
const QColor kAccent(0x5b, 0x9b, 0xd5);
const QColor kWarning(0xe8, 0xb0, 0x4a);

// The axis letter that a direction (LPS patient coordinates) points to.
QString axisLetter(double x, double y, double z)
{
    const double ax = std::abs(x), ay = std::abs(y), az = std::abs(z);
    if (ax >= ay && ax >= az)
        return x > 0 ? QStringLiteral("L") : QStringLiteral("R");
    if (ay >= ax && ay >= az)
        return y > 0 ? QStringLiteral("P") : QStringLiteral("A");
    return z > 0 ? QStringLiteral("S") : QStringLiteral("I");
}

void shadowText(QPainter& p, const QRectF& r, int flags, const QString& text, const QColor& color = kText)
{
    p.setPen(QColor(0, 0, 0, 200));
    p.drawText(r.translated(1, 1), flags, text);
    p.setPen(color);
    p.drawText(r, flags, text);
}
}  // namespace

QString Viewport::emptySlotText() const
{
    const QString name = slotName_.isEmpty() ? tr("Viewport") : slotName_;
    const ModalityResult* m = result_ && !slotName_.isEmpty() ? result_->modality(slotName_.toStdString()) : nullptr;
    if (m && m->missing)
        return tr("%1\nmissing from this study\nthe prediction was computed without it\n\n"
                  "Drop an image here or use File \u203a Open (Ctrl+O)")
            .arg(name);
    return tr("%1\nempty slot\n\nDrop an image here or use File \u203a Open (Ctrl+O)").arg(name);
}

void Viewport::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    p.fillRect(rect(), kBackground);
    QFont small = font();
    small.setPointSizeF(std::max(7.5, font().pointSizeF() * 0.9));
    p.setFont(small);

    if (!image_ || display_.isNull()) {
        p.setPen(QPen(kDim, 1, Qt::DashLine));
        p.drawRoundedRect(rect().adjusted(12, 12, -12, -12), 8, 8);
        const bool missingFromResult = result_ && !slotName_.isEmpty() && result_->modality(slotName_.toStdString()) &&
                                       result_->modality(slotName_.toStdString())->missing;
        shadowText(p, rect(), Qt::AlignCenter, emptySlotText(), missingFromResult ? kWarning : kDim);
        if (active_) {
            p.setPen(QPen(kAccent, 2));
            p.drawRect(rect().adjusted(1, 1, -1, -1));
        }
        return;
    }

    const QRectF imageRect(0, 0, image_->width, image_->height);
    p.save();
    p.setTransform(imageTransform());
    // Below 2x, smooth; above, show the pixels as they are (a reader wants to see them).
    p.setRenderHint(QPainter::SmoothPixmapTransform, zoom_ < 2.0);
    p.drawImage(imageRect, display_);
    const SimilarityMap* map = currentMap();
    if (overlay_.visible && !overlayImage_.isNull()) {
        p.setRenderHint(QPainter::SmoothPixmapTransform, true);
        p.drawImage(imageRect, overlayImage_);
        if (overlay_.showGrid && map) {
            QPen pen(QColor(255, 255, 255, 90), 0);  // cosmetic: one screen pixel at any zoom
            pen.setCosmetic(true);
            p.setPen(pen);
            const double sx = double(image_->width) / map->inputWidth, sy = double(image_->height) / map->inputHeight;
            for (int c = 0; c * map->patch <= map->inputWidth; ++c)
                p.drawLine(QPointF(c * map->patch * sx, 0), QPointF(c * map->patch * sx, image_->height));
            for (int r = 0; r * map->patch <= map->inputHeight; ++r)
                p.drawLine(QPointF(0, r * map->patch * sy), QPointF(image_->width, r * map->patch * sy));
        }
    }
    if (!maskImage_.isNull()) {  // ground truth over the heat map, so its outline stays visible
        p.setRenderHint(QPainter::SmoothPixmapTransform, false);
        p.drawImage(imageRect, maskImage_);
    }
    p.restore();
    drawCrosshair(p);
    drawMeasurements(p);

    if (annotations_) {
        const AnnotationLayout layout = annotationLayout();  // once per paint, for both
        drawOrientation(p, layout);
        drawCornerText(p, layout);
        if (overlay_.visible && map && currentMapSlice() >= 0)
            drawColorBar(p, *map);
    }
    if (active_) {
        p.setPen(QPen(kAccent, 2));
        p.drawRect(rect().adjusted(1, 1, -1, -1));
    }
}

QStringList Viewport::bottomLines() const
{
    QStringList bottom;
    if (image_->isVolume()) {
        QString s = tr("slice %1 / %2").arg(slice_ + 1).arg(image_->slices);
        if (reformat_.plane != Plane::Stored)
            s = planeName(reformat_.plane) + QStringLiteral("  ") + s;
        const int k = currentMapSlice();
        if (!modelSlices().empty())
            s += k >= 0 ? tr("   model slice %1 of %2").arg(k + 1).arg(modality_->sliceIndices.size())
                        : tr("   (no map: PgUp/PgDn jump to the model's slices)");
        bottom << s;
    }
    if (modality_ && !modality_->maps.empty() && !reformat_.sameGrid)
        bottom << tr("heat maps are defined on the stored slices: choose View \u203a Plane \u203a Stored to see them");
    if (overlay_.visible && modality_ && !currentMap() && !modality_->maps.empty() && reformat_.sameGrid)
        bottom << tr("no %1 map for this modality").arg(OverlayRenderer::displayName(overlay_.kind));
    if (!readOut_.isEmpty())
        bottom << readOut_;
    return bottom;
}

QString Viewport::orientationLetter(QPointF screenDirection) const
{
    // The patient direction that a screen direction shows: back through the view
    // transform to image axes, then through the image geometry to LPS.
    const QTransform inv = imageTransform().inverted();
    const QPointF d = inv.map(screenDirection) - inv.map(QPointF(0, 0));
    const auto& dir = image_->direction;
    const double sx = d.x() * image_->spacing[0], sy = d.y() * image_->spacing[1];
    return axisLetter(sx * dir[0] + sy * dir[3], sx * dir[1] + sy * dir[4], sx * dir[2] + sy * dir[5]);
}

Viewport::AnnotationLayout Viewport::annotationLayout() const
{
    AnnotationLayout l;
    if (!image_)
        return l;
    QFont small = font();
    small.setPointSizeF(std::max(7.5, font().pointSizeF() * 0.9));
    const QFontMetricsF fm(small);
    const QRectF r = QRectF(rect()).adjusted(8, 6, -8, -6);
    const double line = fm.lineSpacing();

    // Window text at the top right, left of the colour bar's labels.
    const QString windowText = QStringLiteral("W %1  L %2").arg(width_, 0, 'g', 4).arg(center_, 0, 'g', 4);
    const double windowW = std::max(fm.horizontalAdvance(windowText), fm.horizontalAdvance(QStringLiteral("00000%"))) + 2;
    l.windowRect = QRectF(r.right() - 46 - windowW, r.top(), windowW, 2 * line);

    // Title: what is free to the left of it, elided in the middle (the file name's end
    // says most).
    // Title: the slot always (the plane is on the slice line); the file name elided in the middle to what is
    // free to the left of the window text (its end says most).
    QString title = slotName_;
    const double titleW = std::max(0.0, l.windowRect.left() - 8 - r.left());
    if (!image_->sourcePath.empty()) {
        const QString sep = QStringLiteral("  \u2022  ");
        const double room = titleW - fm.horizontalAdvance(title + sep);
        const QString file = QFileInfo(QString::fromStdString(image_->sourcePath)).fileName();
        // in full, or at least its first and last few letters
        if (room >= std::min(fm.horizontalAdvance(file), fm.horizontalAdvance(QStringLiteral("abcdef\u2026wxyz"))))
            title += sep + fm.elidedText(file, Qt::ElideMiddle, room);
    }
    l.title = fm.elidedText(title, Qt::ElideRight, titleW);
    l.titleRect = QRectF(r.left(), r.top(), titleW, line);

    // Bottom text block, and the bottom letter above it when they would meet.
    const QStringList bottom = bottomLines();
    l.bottomText = bottom.join('\n');
    const int lines = static_cast<int>(bottom.size());
    l.bottomRect = QRectF(r.left(), r.bottom() - lines * line, r.width(), lines * line);

    if (image_->hasGeometry) {
        l.letters[0] = orientationLetter(QPointF(-1, 0));
        l.letters[1] = orientationLetter(QPointF(1, 0));
        l.letters[2] = orientationLetter(QPointF(0, -1));
        l.letters[3] = orientationLetter(QPointF(0, 1));
        QFont bold = small;
        bold.setBold(true);
        const QFontMetricsF bm(bold);
        const double lw = bm.horizontalAdvance(QStringLiteral("W")) + 2, lh = bm.height();
        const double midY = height() / 2.0 - lh / 2, midX = width() / 2.0 - lw / 2;
        l.letterRects[0] = QRectF(6, midY, lw, lh);
        l.letterRects[1] = QRectF(width() - 52 - lw, midY, lw, lh);
        l.letterRects[2] = QRectF(midX, l.titleRect.bottom() + 4, lw, lh);
        double bottomY = height() - 6 - lh;
        if (lines > 0)
            bottomY = std::min(bottomY, l.bottomRect.top() - 2 - lh);
        l.letterRects[3] = QRectF(midX, bottomY, lw, lh);
    }
    return l;
}

void Viewport::drawCornerText(QPainter& p, const AnnotationLayout& l)
{
    shadowText(p, l.titleRect, Qt::AlignLeft | Qt::AlignTop, l.title);
    const QString right = QStringLiteral("W %1  L %2\n%3%")
                              .arg(width_, 0, 'g', 4)
                              .arg(center_, 0, 'g', 4)
                              .arg(zoom_ * 100.0, 0, 'f', 0);
    shadowText(p, l.windowRect, Qt::AlignRight | Qt::AlignTop, right, kDim);
    shadowText(p, l.bottomRect, Qt::AlignLeft | Qt::AlignBottom, l.bottomText);
}

void Viewport::drawOrientation(QPainter& p, const AnnotationLayout& l)
{
    if (!image_->hasGeometry)
        return;
    QFont f = p.font();
    f.setBold(true);
    p.save();
    p.setFont(f);
    for (int i = 0; i < 4; ++i)
        shadowText(p, l.letterRects[i], Qt::AlignCenter, l.letters[i], kAccent);
    p.restore();
}

void Viewport::drawColorBar(QPainter& p, const SimilarityMap& map)
{
    const ColorMap& colors = ColorMap::byName(OverlayRenderer::isSigned(map) ? QStringLiteral("diverging") : overlay_.colorMap);
    const int barW = 12;
    const int barH = std::clamp(height() / 2, 60, 320);
    const QRect bar(width() - barW - 34, (height() - barH) / 2, barW, barH);
    for (int i = 0; i < barH; ++i) {
        const double t = 1.0 - double(i) / (barH - 1);
        p.fillRect(QRect(bar.left(), bar.top() + i, barW, 1), QColor(colors.at(t)));
    }
    p.setPen(QColor(0x40, 0x44, 0x4a));
    p.drawRect(bar.adjusted(0, 0, -1, -1));
    if (overlay_.threshold > 0) {  // cut-off mark
        p.setPen(QPen(kText, 1, Qt::DashLine));
        auto mark = [&](double t) {
            const int y = bar.top() + int(std::lround((1.0 - t) * (barH - 1)));
            p.drawLine(bar.left() - 3, y, bar.right() + 3, y);
        };
        if (OverlayRenderer::isSigned(map)) {
            mark(0.5 + overlay_.threshold / 2);
            mark(0.5 - overlay_.threshold / 2);
        } else {
            mark(overlay_.threshold);
        }
    }
    QFont f = p.font();
    f.setPointSizeF(std::max(7.0, f.pointSizeF() * 0.9));
    p.setFont(f);
    const QRectF labels(bar.right() + 3, bar.top() - 8, 34, barH + 16);
    // Small values (attributions are score units): the labels in units of 10^e, e above the bar.
    const double largest = std::max(std::abs(range_.lo), std::abs(range_.hi));
    const int exponent = largest > 0 && largest < 0.01 ? int(std::floor(std::log10(largest))) : 0;
    const double unit = std::pow(10.0, exponent);
    auto fmt = [unit](double v) { return QString::number(v / unit, 'f', 2); };
    if (exponent != 0)
        shadowText(p, QRectF(bar.left() - 20, bar.top() - 24, 60, 14), Qt::AlignCenter,
                   QStringLiteral("\u00d710^%1").arg(exponent), kText);
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignTop, fmt(range_.hi), kText);
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignVCenter, fmt((range_.lo + range_.hi) / 2.0), kDim);
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignBottom, fmt(range_.lo), kText);
    p.save();
    p.translate(bar.left() - 6, bar.center().y());
    p.rotate(-90);
    shadowText(p, QRectF(-barH / 2.0, -14, barH, 14), Qt::AlignCenter, OverlayRenderer::displayName(overlay_.kind), kDim);
    p.restore();
}

QString Viewport::shortLabel(const Measurement& m) const
{
    switch (m.kind) {
    case MeasureKind::Distance: {
        bool mm = false;
        const double len = measuredLength(m, *image_, &mm);
        return QStringLiteral("%1 %2").arg(len, 0, 'f', mm ? 1 : 0).arg(mm ? "mm" : "px");
    }
    case MeasureKind::Angle:
        return QStringLiteral("%1\u00b0").arg(measuredAngle(m, *image_), 0, 'f', 1);
    default: {
        const RegionStats s = regionStats(m, *image_, currentMap(), currentMapSlice());
        QString t = QStringLiteral("%1 \u00b1 %2").arg(s.mean, 0, 'g', 4).arg(s.sd, 0, 'g', 3);
        if (s.mapMean)
            t += QStringLiteral("  map %1").arg(*s.mapMean, 0, 'f', 2);
        return t;
    }
    }
}

void Viewport::drawMeasurements(QPainter& p)
{
    QVector<Measurement> items = measurements_ ? measurements_->on(slotName_, slice_, reformat_.plane) : QVector<Measurement>{};
    if (pending_) {
        Measurement preview = *pending_;
        if (preview.kind == MeasureKind::Angle || preview.points.size() < Measurement::pointCount(preview.kind))
            preview.points.push_back(hover_);
        if (preview.points.size() > Measurement::pointCount(preview.kind))
            preview.points.resize(Measurement::pointCount(preview.kind));
        items.push_back(preview);
    }
    if (items.isEmpty())
        return;
    const QTransform t = imageTransform();
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    const QColor ink(0xff, 0xd8, 0x4a);
    QPen pen(ink, 1.5);
    for (const Measurement& m : items) {
        p.setPen(pen);
        p.setBrush(Qt::NoBrush);
        QVector<QPointF> w;
        for (const QPointF& pt : m.points)
            w << t.map(pt);
        if (w.size() < 2)
            continue;
        if (m.kind == MeasureKind::Distance || m.kind == MeasureKind::Angle) {
            p.drawPolyline(w.data(), int(w.size()));
        } else {
            // the region's outline in image space, so rotation and pixel aspect apply
            QPainterPath path;
            const QRectF r = QRectF(m.points[0], m.points[1]).normalized();
            if (m.kind == MeasureKind::Ellipse)
                path.addEllipse(r);
            else
                path.addRect(r);
            p.drawPath(t.map(path));
        }
        for (const QPointF& q : w)
            p.drawEllipse(q, 2.5, 2.5);
        if (m.complete() || m.kind != MeasureKind::Angle) {
            // Right of the last point, or left of it where the colour bar would be hit.
            const QString label = (m.id > 0 ? QStringLiteral("#%1 ").arg(m.id) : QString()) + shortLabel(m);
            const double tw = p.fontMetrics().horizontalAdvance(label) + 4;
            const QPointF at = w.back().x() + 6 + tw > width() - 72 ? w.back() + QPointF(-6 - tw, -18) : w.back() + QPointF(6, -18);
            shadowText(p, QRectF(at, QSizeF(tw, 16)), Qt::AlignLeft | Qt::AlignVCenter, label, ink);
        }
    }
    p.restore();
}

void Viewport::drawCrosshair(QPainter& p)
{
    if (!crosshair_ || !image_->hasGeometry)
        return;
    // The point's projection on this slice; the lines span the image (the other planes
    // cut this one there).
    const auto idx = indexOf(*image_, *crosshair_);
    const QTransform t = imageTransform();
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    QPen pen(QColor(0x4a, 0xd8, 0xe8, 200), 1.0, Qt::DashLine);
    pen.setCosmetic(true);
    p.setPen(pen);
    p.drawLine(t.map(QLineF(0, idx[1], image_->width, idx[1])));
    p.drawLine(t.map(QLineF(idx[0], 0, idx[0], image_->height)));
    p.restore();
}

}  // namespace ei
