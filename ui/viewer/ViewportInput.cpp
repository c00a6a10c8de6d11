// Viewport mouse, wheel, keyboard and drops. See Viewport.h.
#include "ui/viewer/Viewport.h"

#include <QDragEnterEvent>
#include <QKeyEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace ei {

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
    if (e->button() == Qt::LeftButton && tool_ == Tool::Crosshair) {
        drag_ = Drag::Crosshair;
        placeCrosshair(widgetToImage(e->position()));
    } else if (e->button() == Qt::LeftButton && tool_ != Tool::Navigate) {
        measurePress(widgetToImage(e->position()));
    } else if (e->button() == Qt::LeftButton) {
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
    if (drag_ == Drag::Crosshair) {
        placeCrosshair(widgetToImage(e->position()));
    } else if (drag_ == Drag::Pan) {
        viewCenter_ = dragCenter_;
        viewCenter_ += widgetToImage(dragStart_) - widgetToImage(pos);
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
    if (pending_) {
        hover_ = widgetToImage(e->position());
        update();
    }
    readOut_ = readOut(pos);
    readOutAt_ = pos;
    Q_EMIT pixelReadOut(readOut_);
    update();
}

void Viewport::mouseReleaseEvent(QMouseEvent* e)
{
    if (e->button() == Qt::LeftButton && tool_ != Tool::Navigate && tool_ != Tool::Crosshair)
        measureRelease(widgetToImage(e->position()));
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

void Viewport::placeCrosshair(QPointF imagePoint)
{
    if (!image_ || !image_->hasGeometry)
        return;
    // Inside the image: a point beside it would send the other views off the volume.
    imagePoint.setX(std::clamp(imagePoint.x(), 0.0, image_->width - 1e-6));
    imagePoint.setY(std::clamp(imagePoint.y(), 0.0, image_->height - 1e-6));
    crosshair_ = worldAt(imagePoint);
    update();
    Q_EMIT crosshairMoved(*crosshair_);
}

bool Viewport::event(QEvent* e)
{
    // Escape drops a measurement being drawn, before the window's Escape (cancel run).
    if (e->type() == QEvent::ShortcutOverride && pending_ && static_cast<QKeyEvent*>(e)->key() == Qt::Key_Escape) {
        e->accept();
        return true;
    }
    if (e->type() == QEvent::KeyPress && pending_ && static_cast<QKeyEvent*>(e)->key() == Qt::Key_Escape) {
        cancelMeasurement();
        return true;
    }
    return QWidget::event(e);
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
