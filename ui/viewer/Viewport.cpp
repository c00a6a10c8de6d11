// See Viewport.h.
#include "ui/viewer/Viewport.h"

#include <QTimer>

#include <cmath>

#include <algorithm>
#include <cmath>

namespace ei {


Viewport::Viewport(QWidget* parent) : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAcceptDrops(true);
    setMinimumSize(160, 160);
    setAttribute(Qt::WA_OpaquePaintEvent);
    cine_ = new QTimer(this);
    connect(cine_, &QTimer::timeout, this, [this] { setSlice(slice_ + 1 < sliceCount() ? slice_ + 1 : 0); });
}

void Viewport::setSlotName(const QString& name)
{
    slotName_ = name;
    update();
}

void Viewport::setImage(std::shared_ptr<const Image> image)
{
    source_ = std::move(image);
    reformat_ = reformatVolume(source_, reformat_.plane);
    image_ = reformat_.image;
    crosshair_.reset();
    maskSource_.reset();
    maskShown_.reset();
    maskImage_ = QImage();
    cine_->stop();
    pending_.reset();
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
    if (modality_ && image_ && image_->isVolume() && !modelSlices().empty()) {
        const auto idx = modelSlices();
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
    if (!reformat_.sameGrid)
        return -1;
    if (!image_->isVolume())
        return 0;
    const auto& idx = modality_->sliceIndices;
    const int source = reformat_.sourceSlice(slice_);
    for (std::size_t k = 0; k < idx.size() && static_cast<int>(k) < map->slices; ++k)
        if (idx[k] == source)
            return static_cast<int>(k);
    return -1;
}

std::vector<int> Viewport::modelSlices() const
{
    std::vector<int> out;
    if (!modality_ || !reformat_.sameGrid)
        return out;
    for (int s : modality_->sliceIndices)
        out.push_back(reformat_.sourceSlice(s));  // reversing is its own inverse
    return out;
}

void Viewport::setPlane(Plane plane)
{
    if (plane == reformat_.plane)
        return;
    // Keep looking at the same place: the centre of the current slice.
    std::optional<World> centre;
    if (image_ && image_->isVolume() && image_->hasGeometry)
        centre = worldAt(QPointF(image_->width / 2.0, image_->height / 2.0));
    reformat_ = reformatVolume(source_, plane);
    reformat_.plane = plane;
    image_ = reformat_.image;
    maskShown_ = reformatVolume(maskSource_, plane).image;
    pending_.reset();
    readOut_.clear();  // it was about the other plane
    if (image_ && centre) {
        const auto idx = indexOf(*image_, *centre);
        slice_ = std::clamp(static_cast<int>(std::lround(idx[2])), 0, std::max(0, image_->slices - 1));
    } else if (image_) {
        slice_ = image_->slices / 2;
    }
    rebuildDisplay();
    rebuildOverlay();
    rebuildMask();
    fitToWindow();
    Q_EMIT sliceChanged(slice_);
}

void Viewport::setMask(std::shared_ptr<const Image> mask)
{
    if (mask && image_ && (mask->width != source_->width || mask->height != source_->height))
        mask.reset();  // not this image's grid
    maskSource_ = std::move(mask);
    maskShown_ = reformatVolume(maskSource_, reformat_.plane).image;
    rebuildMask();
}

void Viewport::setMaskStyle(MaskStyle style)
{
    maskStyle_ = style;
    rebuildMask();
}

QColor Viewport::labelColor(int label)
{
    static const QColor colors[] = {QColor(0x3c, 0xe0, 0x6c), QColor(0xff, 0x5c, 0x8a), QColor(0x4a, 0xa8, 0xff),
                                    QColor(0xff, 0xa6, 0x2b), QColor(0xc0, 0x7c, 0xff), QColor(0x2b, 0xe0, 0xd0)};
    return colors[(std::max(1, label) - 1) % 6];
}

void Viewport::rebuildMask()
{
    maskImage_ = QImage();
    const Image* m = maskShown_.get();
    if (m && maskStyle_ != MaskStyle::Hidden && image_ && m->width == image_->width && m->height == image_->height &&
        slice_ < std::max(1, m->slices)) {
        maskImage_ = QImage(m->width, m->height, QImage::Format_ARGB32_Premultiplied);
        maskImage_.fill(Qt::transparent);
        const int alpha = maskStyle_ == MaskStyle::Fill ? 110 : 255;
        auto label = [m, this](int y, int x) { return static_cast<int>(m->at(slice_, y, x)); };
        for (int y = 0; y < m->height; ++y) {
            auto* line = reinterpret_cast<QRgb*>(maskImage_.scanLine(y));
            for (int x = 0; x < m->width; ++x) {
                const int l = label(y, x);
                if (l <= 0)
                    continue;
                if (maskStyle_ == MaskStyle::Outline) {  // a pixel with a neighbour of another label
                    const bool edge = x == 0 || y == 0 || x == m->width - 1 || y == m->height - 1 || label(y, x - 1) != l ||
                                      label(y, x + 1) != l || label(y - 1, x) != l || label(y + 1, x) != l;
                    if (!edge)
                        continue;
                }
                const QColor c = labelColor(l);
                line[x] = qPremultiply(qRgba(c.red(), c.green(), c.blue(), alpha));
            }
        }
    }
    update();
}

World Viewport::worldAt(QPointF imagePoint) const
{
    return image_ ? worldOf(*image_, imagePoint, slice_) : World{};
}

void Viewport::setCrosshair(std::optional<World> point)
{
    crosshair_ = point;
    update();
}

void Viewport::showWorldPoint(const World& point)
{
    if (!image_ || !image_->hasGeometry)
        return;
    crosshair_ = point;
    if (image_->isVolume()) {
        const auto idx = indexOf(*image_, point);
        const int s = static_cast<int>(std::lround(idx[2]));
        if (s >= 0 && s < image_->slices)
            setSlice(s);
    }
    update();
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
    pending_.reset();
    rebuildDisplay();
    rebuildOverlay();
    rebuildMask();
    if (!readOut_.isEmpty()) {  // the cursor is still over the image: its z changed
        readOut_ = readOut(readOutAt_);
        Q_EMIT pixelReadOut(readOut_);
    }
    Q_EMIT sliceChanged(slice_);
}

void Viewport::stepToModelSlice(int direction)
{
    if (modelSlices().empty()) {
        setSlice(slice_ + direction);
        return;
    }
    std::vector<int> idx = modelSlices();
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
        const bool invert = (im.photometric == "MONOCHROME1") != inverted_;
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
        const ColorMap& colors = ColorMap::byName(OverlayRenderer::isSigned(*map) ? QStringLiteral("diverging") : overlay_.colorMap);
        overlayImage_ = OverlayRenderer::render(*map, k, colors, range_, overlay_.opacity, overlay_.threshold);
        if (reformat_.flip[0] || reformat_.flip[1])  // a reformat that reverses the stored axes
            overlayImage_ = overlayImage_.mirrored(reformat_.flip[0], reformat_.flip[1]);
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
    const bool quarter = rotation_ % 2 == 1;
    const double w = quarter ? image_->height * pixelAspect() : image_->width;
    const double h = quarter ? image_->width : image_->height * pixelAspect();
    const double zw = (width() - margin - barRoom) / w;
    const double zh = (height() - 2 * margin) / h;
    return std::max(0.01, std::min(zw, zh));
}

void Viewport::fitToWindow()
{
    fit_ = true;
    if (image_ && image_->width > 0) {
        zoom_ = fitZoom();
        // the image's middle goes to the middle of the room left of the colour bar
        viewCenter_ = QPointF(image_->width / 2.0, image_->height / 2.0);
        const double barRoom = annotations_ ? 64.0 : 8.0;
        viewCenter_ = widgetToImage(QPointF(width() / 2.0 + (barRoom - 8.0) / 2.0, height() / 2.0));
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

QTransform Viewport::imageTransform() const
{
    QTransform t;
    t.translate(width() / 2.0, height() / 2.0);
    t.scale(zoom_, zoom_);
    if (flipped_)
        t.scale(-1.0, 1.0);
    t.rotate(90.0 * rotation_);
    t.scale(1.0, pixelAspect());
    t.translate(-viewCenter_.x(), -viewCenter_.y());
    return t;
}

QPointF Viewport::imageToWidget(QPointF p) const { return imageTransform().map(p); }

QPointF Viewport::widgetToImage(QPointF p) const { return imageTransform().inverted().map(p); }

void Viewport::rotate(int quarterTurns)
{
    rotation_ = ((rotation_ + quarterTurns) % 4 + 4) % 4;
    fitToWindow();
}

void Viewport::setFlipped(bool flipped)
{
    flipped_ = flipped;
    if (fit_)
        fitToWindow();
    update();
}

void Viewport::setInverted(bool inverted)
{
    inverted_ = inverted;
    rebuildDisplay();
}

void Viewport::resetOrientation()
{
    rotation_ = 0;
    flipped_ = false;
    inverted_ = false;
    rebuildDisplay();
    fitToWindow();
}

void Viewport::setCine(bool on, double fps)
{
    if (on && image_ && image_->isVolume())
        cine_->start(static_cast<int>(std::lround(1000.0 / std::clamp(fps, 1.0, 60.0))));
    else
        cine_->stop();
}

bool Viewport::cineRunning() const { return cine_->isActive(); }

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
                    .arg(OverlayRenderer::sampleImagePixel(*map, k, reformat_.flip[0] ? image_->width - 1 - x : x,
                                                           reformat_.flip[1] ? image_->height - 1 - y : y, image_->width,
                                                           image_->height),
                         0, 'f', 3);
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

void Viewport::setTool(Tool tool)
{
    tool_ = tool;
    pending_.reset();
    setCursor(tool == Tool::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
    update();
}

void Viewport::setMeasurements(MeasurementList* list)
{
    if (measurements_)
        disconnect(measurements_, nullptr, this, nullptr);
    measurements_ = list;
    if (measurements_)
        connect(measurements_, &MeasurementList::changed, this, qOverload<>(&QWidget::update));
    update();
}

void Viewport::cancelMeasurement()
{
    pending_.reset();
    update();
}

void Viewport::measurePress(QPointF ip)
{
    static const MeasureKind kinds[] = {MeasureKind::Distance, MeasureKind::Distance, MeasureKind::Angle,
                                        MeasureKind::Rectangle, MeasureKind::Ellipse, MeasureKind::Distance};
    hover_ = ip;
    if (!pending_) {
        Measurement m;
        m.kind = kinds[static_cast<int>(tool_)];
        m.slot = slotName_;
        m.slice = slice_;
        m.plane = reformat_.plane;
        m.points = {ip};
        pending_ = m;
    } else if (pending_->kind == MeasureKind::Angle) {
        pending_->points.push_back(ip);
    }
    if (pending_->complete() && measurements_) {
        measurements_->add(*pending_);
        pending_.reset();
    }
    update();
}

void Viewport::measureRelease(QPointF ip)
{
    if (!pending_ || pending_->kind == MeasureKind::Angle)
        return;
    // A drag makes the second point; a click without a drag is not a measurement.
    const QPointF d = imageToWidget(ip) - imageToWidget(pending_->points.front());
    if (std::hypot(d.x(), d.y()) >= 3.0 && measurements_) {
        pending_->points.push_back(ip);
        measurements_->add(*pending_);
    }
    pending_.reset();
    update();
}

}  // namespace ei
