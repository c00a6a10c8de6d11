// See Viewport.h.
#include "ui/viewer/Viewport.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileInfo>
#include <QMimeData>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ei {

namespace {
const QColor kBackground(0x12, 0x13, 0x15);
const QColor kText(0xd8, 0xdb, 0xe0);
const QColor kDim(0x8a, 0x90, 0x99);
const QColor kAccent(0x5b, 0x9b, 0xd5);

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

Viewport::Viewport(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAcceptDrops(true);
    setMinimumSize(160, 160);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void Viewport::setSlotName(const QString& name)
{
    slotName_ = name;
    update();
}

void Viewport::setImage(std::shared_ptr<const Image> image)
{
    image_ = std::move(image);
    slice_ = 0;
    dataMin_ = 0;
    dataMax_ = 255;
    if (image_ && !image_->pixels.empty()) {
        const auto [mn, mx] = std::minmax_element(image_->pixels.begin(), image_->pixels.end());
        dataMin_ = *mn;
        dataMax_ = *mx;
        slice_ = image_->slices / 2;  // volumes open in the middle
    }
    modality_ = result_ && image_ ? result_->modality(slotName_.toStdString()) : nullptr;
    resetWindow();
    rebuildOverlay();
    fit_ = true;
    fitToWindow();
}

void Viewport::setResult(std::shared_ptr<const InferenceResult> result)
{
    result_ = std::move(result);
    modality_ = result_ ? result_->modality(slotName_.toStdString()) : nullptr;
    // Show the overlay where the model looked: the nearest slice the model saw.
    if (modality_ && image_ && image_->isVolume() && !modality_->sliceIndices.empty()) {
        const auto& idx = modality_->sliceIndices;
        if (std::find(idx.begin(), idx.end(), slice_) == idx.end()) {
            int best = idx.front();
            for (int s : idx)
                if (std::abs(s - slice_) < std::abs(best - slice_))
                    best = s;
            slice_ = best;
            rebuildDisplay();
            Q_EMIT sliceChanged(slice_);
        }
    }
    rebuildOverlay();
}

void Viewport::setOverlaySettings(const OverlaySettings& settings)
{
    overlay_ = settings;
    rebuildOverlay();
}

QStringList Viewport::availableMapKinds() const
{
    QStringList kinds;
    if (modality_)
        for (const auto& m : modality_->maps)
            kinds << QString::fromStdString(m.kind);
    return kinds;
}

const SimilarityMap* Viewport::currentMap() const
{
    if (!modality_ || !image_)
        return nullptr;
    for (const auto& m : modality_->maps)
        if (QString::fromStdString(m.kind) == overlay_.kind)
            return &m;
    return nullptr;
}

int Viewport::currentMapSlice() const
{
    const SimilarityMap* map = currentMap();
    if (!map)
        return -1;
    if (!image_->isVolume())
        return 0;
    const auto& idx = modality_->sliceIndices;
    for (std::size_t k = 0; k < idx.size() && static_cast<int>(k) < map->slices; ++k)
        if (idx[k] == slice_)
            return static_cast<int>(k);
    return -1;
}

void Viewport::setWindow(double center, double width)
{
    center_ = center;
    width_ = std::max(width, 1e-6);
    rebuildDisplay();
    Q_EMIT windowChanged(center_, width_);
}

void Viewport::resetWindow()
{
    if (image_)
        setWindow(image_->windowCenter, image_->windowWidth);
    else
        rebuildDisplay();
}

void Viewport::setSlice(int slice)
{
    if (!image_)
        return;
    slice = std::clamp(slice, 0, sliceCount() - 1);
    if (slice == slice_)
        return;
    slice_ = slice;
    rebuildDisplay();
    rebuildOverlay();
    if (!readOut_.isEmpty()) {  // the cursor is still over the image: its z changed
        readOut_ = readOut(readOutAt_);
        Q_EMIT pixelReadOut(readOut_);
    }
    Q_EMIT sliceChanged(slice_);
}

void Viewport::stepToModelSlice(int direction)
{
    if (!modality_ || modality_->sliceIndices.empty()) {
        setSlice(slice_ + direction);
        return;
    }
    std::vector<int> idx = modality_->sliceIndices;
    std::sort(idx.begin(), idx.end());
    if (direction > 0) {
        auto it = std::upper_bound(idx.begin(), idx.end(), slice_);
        setSlice(it != idx.end() ? *it : idx.front());
    } else {
        auto it = std::lower_bound(idx.begin(), idx.end(), slice_);
        setSlice(it != idx.begin() ? *(it - 1) : idx.back());
    }
}

void Viewport::rebuildDisplay()
{
    display_ = QImage();
    if (image_ && image_->width > 0 && image_->height > 0 && !image_->pixels.empty()) {
        const Image& im = *image_;
        const bool rgb = im.channels >= 3;
        display_ = QImage(im.width, im.height, rgb ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
        const double lo = center_ - width_ / 2.0;
        const bool invert = im.photometric == "MONOCHROME1";
        const float* src = im.pixels.data() + static_cast<std::size_t>(slice_) * im.sliceStride();
        for (int y = 0; y < im.height; ++y) {
            uchar* line = display_.scanLine(y);
            for (int x = 0; x < im.width; ++x) {
                const float* px = src + (static_cast<std::size_t>(y) * im.width + x) * im.channels;
                for (int c = 0; c < (rgb ? 3 : 1); ++c) {
                    // divide (not multiply by 255 / w): exact halves round as computed by hand
                    int v = static_cast<int>(std::lround((px[c] - lo) * 255.0 / width_));
                    v = std::clamp(v, 0, 255);
                    line[x * (rgb ? 3 : 1) + c] = static_cast<uchar>(invert ? 255 - v : v);
                }
            }
        }
    }
    update();
}

void Viewport::rebuildOverlay()
{
    overlayImage_ = QImage();
    const SimilarityMap* map = currentMap();
    const int k = currentMapSlice();
    if (map && k >= 0) {
        range_ = OverlayRenderer::valueRange(*map);
        const ColorMap& colors = ColorMap::byName(OverlayRenderer::isDelta(*map) ? QStringLiteral("diverging") : overlay_.colorMap);
        overlayImage_ = OverlayRenderer::render(*map, k, colors, range_, overlay_.opacity, overlay_.threshold);
    }
    update();
}

double Viewport::pixelAspect() const
{
    if (!image_ || !image_->hasGeometry || image_->spacing[0] <= 0 || image_->spacing[1] <= 0)
        return 1.0;
    return image_->spacing[1] / image_->spacing[0];
}

void Viewport::setView(double zoom, QPointF center)
{
    zoom_ = std::clamp(zoom, 0.01, 64.0);
    viewCenter_ = center;
    fit_ = false;
    update();
}

void Viewport::zoomBy(double factor, std::optional<QPointF> anchorWidget)
{
    if (!image_)
        return;
    const QPointF anchor = anchorWidget.value_or(QPointF(width() / 2.0, height() / 2.0));
    const QPointF before = widgetToImage(anchor);
    zoom_ = std::clamp(zoom_ * factor, 0.01, 64.0);
    // keep the image point under the anchor where it was
    const QPointF after = widgetToImage(anchor);
    viewCenter_ += before - after;
    fit_ = false;
    update();
    Q_EMIT viewChangedByUser(zoom_, viewCenter_);
}

double Viewport::fitZoom() const
{
    if (!image_ || image_->width <= 0 || image_->height <= 0)
        return 1.0;
    // the right margin leaves room for the colour bar, so it never covers the image
    const double margin = 8.0, barRoom = annotations_ ? 64.0 : margin;
    const double zw = (width() - margin - barRoom) / image_->width;
    const double zh = (height() - 2 * margin) / (image_->height * pixelAspect());
    return std::max(0.01, std::min(zw, zh));
}

void Viewport::fitToWindow()
{
    fit_ = true;
    if (image_ && image_->width > 0) {
        zoom_ = fitZoom();
        const double barRoom = annotations_ ? 64.0 : 8.0;
        viewCenter_ = QPointF(image_->width / 2.0 + (barRoom - 8.0) / 2.0 / zoom_, image_->height / 2.0);
    }
    update();
}

void Viewport::oneToOne()
{
    if (!image_)
        return;
    zoom_ = 1.0;
    fit_ = false;
    update();
    Q_EMIT viewChangedByUser(zoom_, viewCenter_);
}

QPointF Viewport::imageToWidget(QPointF p) const
{
    return {(p.x() - viewCenter_.x()) * zoom_ + width() / 2.0,
            (p.y() - viewCenter_.y()) * zoom_ * pixelAspect() + height() / 2.0};
}

QPointF Viewport::widgetToImage(QPointF p) const
{
    return {(p.x() - width() / 2.0) / zoom_ + viewCenter_.x(),
            (p.y() - height() / 2.0) / (zoom_ * pixelAspect()) + viewCenter_.y()};
}

QString Viewport::readOut(QPointF widgetPoint) const
{
    if (!image_)
        return {};
    const QPointF ip = widgetToImage(widgetPoint);
    const int x = static_cast<int>(std::floor(ip.x())), y = static_cast<int>(std::floor(ip.y()));
    if (x < 0 || y < 0 || x >= image_->width || y >= image_->height)
        return {};
    QString text = QStringLiteral("%1  x %2  y %3").arg(slotName_).arg(x).arg(y);
    if (image_->isVolume())
        text += QStringLiteral("  z %1").arg(slice_);
    if (image_->channels >= 3)
        text += QStringLiteral(":  RGB %1 %2 %3")
                    .arg(image_->at(slice_, y, x, 0), 0, 'g', 5)
                    .arg(image_->at(slice_, y, x, 1), 0, 'g', 5)
                    .arg(image_->at(slice_, y, x, 2), 0, 'g', 5);
    else
        text += QStringLiteral(":  %1").arg(image_->at(slice_, y, x), 0, 'g', 6);
    const SimilarityMap* map = currentMap();
    const int k = currentMapSlice();
    if (map && k >= 0)
        text += QStringLiteral("   %1 %2")
                    .arg(QString::fromStdString(map->kind))
                    .arg(OverlayRenderer::sampleImagePixel(*map, k, x, y, image_->width, image_->height), 0, 'f', 3);
    return text;
}

void Viewport::setActive(bool active)
{
    if (active_ != active) {
        active_ = active;
        update();
    }
}

void Viewport::setAnnotationsVisible(bool visible)
{
    annotations_ = visible;
    if (fit_)
        fitToWindow();  // the colour bar's room comes and goes with the annotations
    else
        update();
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
        shadowText(p, rect(), Qt::AlignCenter,
                   tr("%1\nempty slot\n\nDrop an image here or use File \u203a Open (Ctrl+O)")
                       .arg(slotName_.isEmpty() ? tr("Viewport") : slotName_),
                   kDim);
        if (active_) {
            p.setPen(QPen(kAccent, 2));
            p.drawRect(rect().adjusted(1, 1, -1, -1));
        }
        return;
    }

    const QRectF imageRect(0, 0, image_->width, image_->height);
    p.save();
    p.translate(width() / 2.0, height() / 2.0);
    p.scale(zoom_, zoom_ * pixelAspect());
    p.translate(-viewCenter_.x(), -viewCenter_.y());
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
    p.restore();

    if (annotations_) {
        drawOrientation(p);
        drawCornerText(p);
        if (overlay_.visible && map && currentMapSlice() >= 0)
            drawColorBar(p, *map);
    }
    if (active_) {
        p.setPen(QPen(kAccent, 2));
        p.drawRect(rect().adjusted(1, 1, -1, -1));
    }
}

void Viewport::drawCornerText(QPainter& p)
{
    const QRectF r = rect().adjusted(8, 6, -8, -6);
    QString title = slotName_;
    if (!image_->sourcePath.empty())
        title += QStringLiteral("  \u2022  ") + QFileInfo(QString::fromStdString(image_->sourcePath)).fileName();
    shadowText(p, r, Qt::AlignLeft | Qt::AlignTop, title);

    QString right = QStringLiteral("W %1  L %2\n%3%")
                        .arg(width_, 0, 'g', 4)
                        .arg(center_, 0, 'g', 4)
                        .arg(zoom_ * 100.0, 0, 'f', 0);
    shadowText(p, r.adjusted(0, 0, -46, 0), Qt::AlignRight | Qt::AlignTop, right, kDim);

    QStringList bottom;
    if (image_->isVolume()) {
        QString s = tr("slice %1 / %2").arg(slice_ + 1).arg(image_->slices);
        const int k = currentMapSlice();
        if (modality_ && !modality_->sliceIndices.empty())
            s += k >= 0 ? tr("   model slice %1 of %2").arg(k + 1).arg(modality_->sliceIndices.size())
                        : tr("   (no map: PgUp/PgDn jump to the model's slices)");
        bottom << s;
    }
    if (overlay_.visible && modality_ && !currentMap() && !modality_->maps.empty())
        bottom << tr("no %1 map for this modality").arg(OverlayRenderer::displayName(overlay_.kind));
    if (!readOut_.isEmpty())
        bottom << readOut_;
    shadowText(p, r, Qt::AlignLeft | Qt::AlignBottom, bottom.join('\n'));
}

void Viewport::drawOrientation(QPainter& p)
{
    if (!image_->hasGeometry)
        return;
    const auto& d = image_->direction;
    const QString right = axisLetter(d[0], d[1], d[2]), left = axisLetter(-d[0], -d[1], -d[2]);
    const QString down = axisLetter(d[3], d[4], d[5]), up = axisLetter(-d[3], -d[4], -d[5]);
    QFont f = p.font();
    f.setBold(true);
    p.save();
    p.setFont(f);
    const QRectF r = rect().adjusted(6, 22, -6, -22);
    shadowText(p, r, Qt::AlignLeft | Qt::AlignVCenter, left, kAccent);
    shadowText(p, r.adjusted(0, 0, -46, 0), Qt::AlignRight | Qt::AlignVCenter, right, kAccent);
    shadowText(p, rect().adjusted(0, 24, 0, 0), Qt::AlignHCenter | Qt::AlignTop, up, kAccent);
    shadowText(p, rect().adjusted(0, 0, 0, -6), Qt::AlignHCenter | Qt::AlignBottom, down, kAccent);
    p.restore();
}

void Viewport::drawColorBar(QPainter& p, const SimilarityMap& map)
{
    const ColorMap& colors = ColorMap::byName(OverlayRenderer::isDelta(map) ? QStringLiteral("diverging") : overlay_.colorMap);
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
        if (OverlayRenderer::isDelta(map)) {
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
    auto fmt = [](double v) { return QString::number(v, 'f', 2); };
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignTop, fmt(range_.hi), kText);
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignVCenter, fmt((range_.lo + range_.hi) / 2.0), kDim);
    shadowText(p, labels, Qt::AlignLeft | Qt::AlignBottom, fmt(range_.lo), kText);
    p.save();
    p.translate(bar.left() - 6, bar.center().y());
    p.rotate(-90);
    shadowText(p, QRectF(-barH / 2.0, -14, barH, 14), Qt::AlignCenter, OverlayRenderer::displayName(overlay_.kind), kDim);
    p.restore();
}

void Viewport::resizeEvent(QResizeEvent*)
{
    if (fit_)
        fitToWindow();
}

void Viewport::mousePressEvent(QMouseEvent* e)
{
    Q_EMIT activated();
    setFocus();
    if (!image_)
        return;
    dragStart_ = e->position().toPoint();
    if (e->button() == Qt::LeftButton) {
        drag_ = Drag::Pan;
        dragCenter_ = viewCenter_;
        setCursor(Qt::ClosedHandCursor);
    } else if (e->button() == Qt::RightButton) {
        drag_ = Drag::Window;
        dragWindowCenter_ = center_;
        dragWindowWidth_ = width_;
    }
}

void Viewport::mouseMoveEvent(QMouseEvent* e)
{
    const QPoint pos = e->position().toPoint();
    if (drag_ == Drag::Pan) {
        const QPointF d = pos - dragStart_;
        viewCenter_ = dragCenter_ - QPointF(d.x() / zoom_, d.y() / (zoom_ * pixelAspect()));
        fit_ = false;
        update();
        Q_EMIT viewChangedByUser(zoom_, viewCenter_);
    } else if (drag_ == Drag::Window) {
        // One widget width of drag spans the data range: coarse enough to be quick,
        // fine enough for 16-bit data.
        const double range = std::max(1e-3, double(dataMax_) - dataMin_);
        const double perPixel = range / std::max(200, width());
        const QPoint d = pos - dragStart_;
        setWindow(dragWindowCenter_ - d.y() * perPixel, std::max(perPixel, dragWindowWidth_ + d.x() * perPixel));
    }
    readOut_ = readOut(pos);
    readOutAt_ = pos;
    Q_EMIT pixelReadOut(readOut_);
    update();
}

void Viewport::mouseReleaseEvent(QMouseEvent*)
{
    drag_ = Drag::None;
    unsetCursor();
}

void Viewport::mouseDoubleClickEvent(QMouseEvent*)
{
    fitToWindow();
    Q_EMIT viewChangedByUser(zoom_, viewCenter_);
}

void Viewport::wheelEvent(QWheelEvent* e)
{
    if (!image_)
        return;
    const double steps = e->angleDelta().y() / 120.0;
    if (image_->isVolume() && !(e->modifiers() & Qt::ControlModifier)) {
        setSlice(slice_ + (steps > 0 ? -1 : 1) * std::max(1, int(std::abs(steps))));
    } else {
        zoomBy(std::pow(1.2, steps), e->position());
    }
    e->accept();
}

void Viewport::keyPressEvent(QKeyEvent* e)
{
    switch (e->key()) {
    case Qt::Key_Up:
        setSlice(slice_ - 1);
        break;
    case Qt::Key_Down:
        setSlice(slice_ + 1);
        break;
    case Qt::Key_PageUp:
        stepToModelSlice(-1);
        break;
    case Qt::Key_PageDown:
        stepToModelSlice(+1);
        break;
    case Qt::Key_Home:
        setSlice(0);
        break;
    case Qt::Key_End:
        setSlice(sliceCount() - 1);
        break;
    default:
        QWidget::keyPressEvent(e);
    }
}

void Viewport::leaveEvent(QEvent*)
{
    readOut_.clear();
    update();
}

void Viewport::dragEnterEvent(QDragEnterEvent* e)
{
    if (e->mimeData()->hasUrls())
        e->acceptProposedAction();
}

void Viewport::dropEvent(QDropEvent* e)
{
    const auto urls = e->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile()) {
        Q_EMIT fileDropped(urls.first().toLocalFile());
        e->acceptProposedAction();
    }
}

}  // namespace ei
