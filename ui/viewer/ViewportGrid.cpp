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

std::pair<int, int> ViewportGrid::shapeFor(int n)
{
    if (n <= 1)
        return {1, 1};
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
    const auto [rows, cols] = shapeFor(names.size());
    for (int i = 0; i < names.size(); ++i) {
        auto* v = new Viewport(this);
        v->setSlotName(names[i]);
        v->setObjectName(QStringLiteral("viewport_") + names[i]);
        layout_->addWidget(v, i / cols, i % cols);
        connect(v, &Viewport::viewChangedByUser, this, [this, v] { follow(v); });
        connect(v, &Viewport::activated, this, [this, v] { setActiveViewport(v); });
        connect(v, &Viewport::pixelReadOut, this, &ViewportGrid::pixelReadOut);
        connect(v, &Viewport::fileDropped, this, [this, v](const QString& path) { Q_EMIT fileDropped(v->slotName(), path); });
        viewports_.push_back(v);
    }
    for (int r = 0; r < rows; ++r)
        layout_->setRowStretch(r, 1);
    for (int c = 0; c < cols; ++c)
        layout_->setColumnStretch(c, 1);
    if (!viewports_.isEmpty())
        setActiveViewport(viewports_.front());
}

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
