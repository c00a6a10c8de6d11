// The viewports of a study, one per model modality, in a grid that suits their count
// (1x2, 1x3, 2x2, ...) or the layout the user picked (one row, one column, 2 x 2), with
// one viewport maximised on request. Optionally links zoom and pan: the others follow the one the
// user moves, in relative terms (zoom relative to each one's fit, centre as a fraction
// of each image), so images of different sizes stay comparable.
#pragma once

#include "ui/viewer/Viewport.h"

#include <QImage>
#include <QVector>
#include <QWidget>

class QGridLayout;

namespace ei {

class ViewportGrid : public QWidget {
    Q_OBJECT
public:
    explicit ViewportGrid(QWidget* parent = nullptr);

    // Rebuilds the grid with one viewport per slot name (in model order).
    void setSlots(const QStringList& names);
    const QVector<Viewport*>& viewports() const { return viewports_; }
    Viewport* viewport(const QString& slot) const;
    Viewport* activeViewport() const;
    void setActiveViewport(Viewport* v);

    // The measuring tool and the study's measurement list, for every viewport.
    void setTool(Viewport::Tool tool);
    Viewport::Tool tool() const { return tool_; }
    void setMeasurements(MeasurementList* list);

    void setLinked(bool linked);
    bool linked() const { return linked_; }

    enum class Layout { Automatic, Row, Column, TwoByTwo };
    // Grid shape for n viewports: {rows, columns}.
    static std::pair<int, int> shapeFor(int n, Layout layout = Layout::Automatic);
    void setGridLayout(Layout layout);
    Layout gridLayout() const { return layoutKind_; }

    // One viewport fills the grid (the others hidden); nullptr shows all again.
    void setMaximized(Viewport* v);
    Viewport* maximized() const { return maximized_; }
    void toggleMaximized();  // the active viewport

    // Three planes of the active volume: it shows axial, two more viewports of the same
    // slot coronal and sagittal, side by side (the others hidden); off: back to the grid.
    // False when the active viewport holds no volume with a geometry.
    bool setThreePlanes(bool on);
    bool threePlanes() const { return !planeViews_.isEmpty(); }

    // The crosshair: a patient position shared by every viewport with a geometry. Each
    // goes to the slice through it and draws it; scrolling one moves it along that
    // viewport's normal, and the others follow (linked scrolling by position).
    void setCrosshair(std::optional<World> point, Viewport* source = nullptr);
    std::optional<World> crosshair() const { return crosshair_; }


Q_SIGNALS:
    void fileDropped(const QString& slot, const QString& path);
    void pixelReadOut(const QString& text);
    void activeViewportChanged(ei::Viewport* viewport);

private:
    void follow(Viewport* source);
    void arrange();
    Viewport* addViewport(const QString& slot, const QString& objectName);
    void sliceMoved(Viewport* v);

    QGridLayout* layout_ = nullptr;
    QVector<Viewport*> viewports_;
    Viewport* active_ = nullptr;
    Viewport* maximized_ = nullptr;
    Layout layoutKind_ = Layout::Automatic;
    Viewport::Tool tool_ = Viewport::Tool::Navigate;
    MeasurementList* measurements_ = nullptr;
    QVector<Viewport*> planeViews_;  // the base viewport and its two extra planes
    Plane planeBefore_ = Plane::Stored;  // the base's plane before the three-plane view
    std::optional<World> crosshair_;
    bool linked_ = false;
    bool following_ = false;
};

}  // namespace ei
