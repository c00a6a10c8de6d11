// See ViewportGrid.h.
#include "ui/viewer/ViewportGrid.h"

#include <QGridLayout>

#include <cmath>

namespace ei {

ViewportGrid::ViewportGrid(QWidget* parent) : QWidget(parent)
{
    layout_ = new QGridLayout(this);
    layout_->setContentsMargins(0, 0, 0, 0);
    layout_->setSpacing(2);
}

std::pair<int, int> ViewportGrid::shapeFor(int n, Layout layout)
{
    if (n <= 1)
        return {1, 1};
    if (layout == Layout::Row)
        return {1, n};
    if (layout == Layout::Column)
        return {n, 1};
    if (layout == Layout::TwoByTwo)
        return {(n + 1) / 2, 2};
    if (n <= 3)
        return {1, n};
    const int cols = static_cast<int>(std::ceil(std::sqrt(double(n))));
    return {(n + cols - 1) / cols, cols};
}

void ViewportGrid::setSlots(const QStringList& names)
{
    for (Viewport* v : viewports_)
        v->deleteLater();
    viewports_.clear();
    active_ = nullptr;
    maximized_ = nullptr;
    planeViews_.clear();
    crosshair_.reset();
    for (const QString& name : names)
        addViewport(name, QStringLiteral("viewport_") + name);
    arrange();
    if (!viewports_.isEmpty())
        setActiveViewport(viewports_.front());
}

Viewport* ViewportGrid::addViewport(const QString& slot, const QString& objectName)
{
    auto* v = new Viewport(this);
    v->setSlotName(slot);
    v->setObjectName(objectName);
    v->setTool(tool_);
    v->setMeasurements(measurements_);
    connect(v, &Viewport::viewChangedByUser, this, [this, v] { follow(v); });
    connect(v, &Viewport::activated, this, [this, v] { setActiveViewport(v); });
    connect(v, &Viewport::pixelReadOut, this, &ViewportGrid::pixelReadOut);
    connect(v, &Viewport::fileDropped, this, [this, v](const QString& path) { Q_EMIT fileDropped(v->slotName(), path); });
    connect(v, &Viewport::crosshairMoved, this, [this, v](const World& p) { setCrosshair(p, v); });
    connect(v, &Viewport::sliceChanged, this, [this, v] { sliceMoved(v); });
    viewports_.push_back(v);
    return v;
}

void ViewportGrid::setCrosshair(std::optional<World> point, Viewport* source)
{
    crosshair_ = point;
    following_ = true;
    for (Viewport* v : viewports_) {
        if (v == source)
            continue;
        if (point && v->image() && v->image()->hasGeometry)
            v->showWorldPoint(*point);
        else
            v->setCrosshair(std::nullopt);
    }
    following_ = false;
}

void ViewportGrid::sliceMoved(Viewport* v)
{
    if (following_ || !crosshair_ || !v->image() || !v->image()->hasGeometry || !v->image()->isVolume())
        return;
    // The point moves along this viewport's normal onto its new slice.
    const auto idx = indexOf(*v->image(), *crosshair_);
    const World moved = worldOf(*v->image(), QPointF(idx[0], idx[1]), v->slice());
    v->setCrosshair(moved);
    setCrosshair(moved, v);
}

bool ViewportGrid::setThreePlanes(bool on)
{
    if (!on) {
        if (planeViews_.isEmpty())
            return true;
        Viewport* base = planeViews_.front();
        for (int i = 1; i < planeViews_.size(); ++i) {
            viewports_.removeOne(planeViews_[i]);
            if (active_ == planeViews_[i])
                active_ = base;
            planeViews_[i]->deleteLater();
        }
        planeViews_.clear();
        base->setPlane(planeBefore_);
        arrange();
        setActiveViewport(base);
        return true;
    }
    Viewport* base = active_;
    if (!planeViews_.isEmpty() || !base || !base->sourceImage() || !base->sourceImage()->isVolume() ||
        !base->sourceImage()->hasGeometry)
        return false;
    maximized_ = nullptr;
    planeViews_ = {base};
    planeBefore_ = base->plane();
    base->setPlane(Plane::Axial);
    for (Plane plane : {Plane::Coronal, Plane::Sagittal}) {
        Viewport* v = addViewport(base->slotName(), base->objectName() + QStringLiteral("_") + planeName(plane));
        v->setOverlaySettings(base->overlaySettings());
        v->setPlane(plane);
        v->setImage(base->sourceImagePtr());
        v->setResult(base->result());
        v->setAnnotationsVisible(base->annotationsVisible());
        planeViews_.push_back(v);
    }
    arrange();
    // The crosshair starts in the middle of the base view's slice.
    const Image* im = base->image();
    setCrosshair(base->worldAt(QPointF(im->width / 2.0, im->height / 2.0)));
    return true;
}

void ViewportGrid::arrange()
{
    for (Viewport* v : viewports_)
        layout_->removeWidget(v);
    for (int i = 0; i < layout_->rowCount(); ++i)
        layout_->setRowStretch(i, 0);
    for (int i = 0; i < layout_->columnCount(); ++i)
        layout_->setColumnStretch(i, 0);
    if (!planeViews_.isEmpty() && !maximized_) {
        for (Viewport* v : viewports_)
            v->setVisible(planeViews_.contains(v));
        for (int i = 0; i < planeViews_.size(); ++i) {
            layout_->addWidget(planeViews_[i], 0, i);
            layout_->setColumnStretch(i, 1);
        }
        layout_->setRowStretch(0, 1);
        return;
    }
    if (maximized_) {
        for (Viewport* v : viewports_)
            v->setVisible(v == maximized_);
        layout_->addWidget(maximized_, 0, 0);
        layout_->setRowStretch(0, 1);
        layout_->setColumnStretch(0, 1);
        return;
    }
    const auto [rows, cols] = shapeFor(viewports_.size(), layoutKind_);
    for (int i = 0; i < viewports_.size(); ++i) {
        layout_->addWidget(viewports_[i], i / cols, i % cols);
        viewports_[i]->setVisible(true);
    }
    for (int r = 0; r < rows; ++r)
        layout_->setRowStretch(r, 1);
    for (int c = 0; c < cols; ++c)
        layout_->setColumnStretch(c, 1);
}

void ViewportGrid::setTool(Viewport::Tool tool)
{
    tool_ = tool;
    for (Viewport* v : viewports_)
        v->setTool(tool);
}

void ViewportGrid::setMeasurements(MeasurementList* list)
{
    measurements_ = list;
    for (Viewport* v : viewports_)
        v->setMeasurements(list);
}

void ViewportGrid::setGridLayout(Layout layout)
{
    layoutKind_ = layout;
    maximized_ = nullptr;
    if (!planeViews_.isEmpty())
        setThreePlanes(false);
    arrange();
}

void ViewportGrid::setMaximized(Viewport* v)
{
    maximized_ = viewports_.contains(v) ? v : nullptr;
    if (maximized_)
        setActiveViewport(maximized_);
    arrange();
}

void ViewportGrid::toggleMaximized() { setMaximized(maximized_ ? nullptr : active_); }

Viewport* ViewportGrid::viewport(const QString& slot) const
{
    for (Viewport* v : viewports_)
        if (v->slotName() == slot)
            return v;
    return nullptr;
}

Viewport* ViewportGrid::activeViewport() const { return active_; }

void ViewportGrid::setActiveViewport(Viewport* v)
{
    if (active_ == v)
        return;
    active_ = v;
    for (Viewport* o : viewports_)
        o->setActive(o == v && viewports_.size() > 1);
    Q_EMIT activeViewportChanged(v);
}

void ViewportGrid::setLinked(bool linked)
{
    linked_ = linked;
    if (linked_ && active_)
        follow(active_);
}

void ViewportGrid::follow(Viewport* source)
{
    if (!linked_ || following_ || !source->image())
        return;
    following_ = true;
    const double relZoom = source->zoom() / source->fitZoom();
    const QPointF c = source->viewCenter();
    const double fx = c.x() / source->image()->width, fy = c.y() / source->image()->height;
    for (Viewport* v : viewports_) {
        if (v == source || !v->image())
            continue;
        v->setView(relZoom * v->fitZoom(), QPointF(fx * v->image()->width, fy * v->image()->height));
    }
    following_ = false;
}

}  // namespace ei
