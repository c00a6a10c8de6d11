// One modality's image on screen: window / level, zoom, pan, rotate / flip / invert,
// slice scrolling and cine, pixel read-out, orientation labels and the similarity-map
// overlay with its colour bar. Mouse: left drag pans, right drag changes window
// (horizontal: width, vertical: level), wheel zooms about the cursor (on volumes the
// wheel scrolls slices and Ctrl+wheel zooms). A plain QWidget that paints through one
// transform (imageTransform), so the overlay can never drift from the image.
// Painting: ViewportPaint.cpp; mouse and keys: ViewportInput.cpp.
#pragma once

#include "core/io/Image.h"
#include "core/inference/InferenceResult.h"
#include "core/view/Measurement.h"
#include "core/view/Reformat.h"
#include "ui/viewer/OverlayRenderer.h"
#include "ui/viewer/OverlaySettings.h"

#include <QImage>
#include <QPointF>
#include <QRectF>
#include <QTransform>
#include <QWidget>

#include <memory>
#include <optional>

namespace ei {

class Viewport : public QWidget {
    Q_OBJECT
public:
    explicit Viewport(QWidget* parent = nullptr);

    void setSlotName(const QString& name);
    QString slotName() const { return slotName_; }
    // What an empty viewport says: the slot, and, when the shown result ran without this
    // modality, that it did.
    QString emptySlotText() const;

    // The image to show (nullptr: an empty slot, drawn as a drop target).
    void setImage(std::shared_ptr<const Image> image);
    const Image* image() const { return image_.get(); }         // as shown (the reformat)
    const Image* sourceImage() const { return source_.get(); }  // as loaded
    std::shared_ptr<const Image> sourceImagePtr() const { return source_; }
    std::shared_ptr<const InferenceResult> result() const { return result_; }

    // The plane a volume is shown in (Stored: as loaded). The model's maps are shown where
    // they are defined: on the stored grid (also when a reformat only reverses its axes).
    void setPlane(Plane plane);
    Plane plane() const { return reformat_.plane; }
    bool mapsDefinedHere() const { return reformat_.sameGrid; }

    // Ground truth: a label image on the source's grid (core/view/LabelMask), drawn as
    // outlines or filled, one colour per label; it follows the plane like the image.
    void setMask(std::shared_ptr<const Image> mask);
    const Image* mask() const { return maskShown_.get(); }
    enum class MaskStyle { Outline, Fill, Hidden };
    void setMaskStyle(MaskStyle style);
    MaskStyle maskStyle() const { return maskStyle_; }
    static QColor labelColor(int label);

    // Crosshair: a patient position (LPS mm) drawn as two lines through its projection
    // (reference lines of the other planes); showWorldPoint also goes to its slice.
    void setCrosshair(std::optional<World> point);
    std::optional<World> crosshair() const { return crosshair_; }
    void showWorldPoint(const World& point);
    World worldAt(QPointF imagePoint) const;  // on the current slice

    // The modality's result (maps, slices the model saw); nullptr removes the overlay.
    void setResult(std::shared_ptr<const InferenceResult> result);
    void setOverlaySettings(const OverlaySettings& settings);
    const OverlaySettings& overlaySettings() const { return overlay_; }
    // The map drawn now (nullptr: none for this kind / slice).
    const SimilarityMap* currentMap() const;
    int currentMapSlice() const;  // index into the map's slices, -1 when this slice has none
    QStringList availableMapKinds() const;

    // Window / level in stored units. Display value = clamp((v - (c - w/2)) / w * 255).
    void setWindow(double center, double width);
    double windowCenter() const { return center_; }
    double windowWidth() const { return width_; }
    void resetWindow();

    int slice() const { return slice_; }
    int sliceCount() const { return image_ ? std::max(1, image_->slices) : 0; }
    void setSlice(int slice);
    void stepToModelSlice(int direction);  // next / previous slice the model saw

    // View: zoom = screen pixels per image pixel; centre = image point at the middle.
    double zoom() const { return zoom_; }
    QPointF viewCenter() const { return viewCenter_; }
    void setView(double zoom, QPointF center);
    void zoomBy(double factor, std::optional<QPointF> anchorWidget = std::nullopt);
    void fitToWindow();
    void oneToOne();
    bool fitting() const { return fit_; }
    double fitZoom() const;  // the zoom fitToWindow() would choose

    QPointF imageToWidget(QPointF imagePoint) const;
    QPointF widgetToImage(QPointF widgetPoint) const;
    // Image pixel coordinates to widget coordinates: centre, pixel aspect, rotation,
    // flip, zoom. Everything drawn over the image goes through it.
    QTransform imageTransform() const;

    // Display orientation: quarter turns clockwise (0..3), mirrored left-right on screen,
    // grey values inverted. They change the view only, never the data the model reads.
    int rotation() const { return rotation_; }
    void rotate(int quarterTurns);
    bool flipped() const { return flipped_; }
    void setFlipped(bool flipped);
    bool inverted() const { return inverted_; }
    void setInverted(bool inverted);
    void resetOrientation();  // no rotation, flip or inversion

    // Cine: steps through the slices of a volume, looping, at fps frames per second.
    void setCine(bool on, double fps = 10.0);
    bool cineRunning() const;

    // The image after window / level of the current slice (what is painted under the map).
    const QImage& displayImage() const { return display_; }
    QString readOut(QPointF widgetPoint) const;  // "x 12 y 40: 128 | map 0.53"

    // Measuring: Navigate (pan / window), or draw a distance (drag), an angle (three
    // clicks, the second is the vertex) or a rectangle / ellipse region (drag). Finished
    // measurements go into the list (shared by the study's viewports); Escape drops one
    // being drawn.
    enum class Tool { Navigate, Distance, Angle, Rectangle, Ellipse, Crosshair };
    void setTool(Tool tool);
    Tool tool() const { return tool_; }
    void setMeasurements(MeasurementList* list);
    bool measuring() const { return pending_.has_value(); }
    void cancelMeasurement();

    // Where the annotations go, so they never overlap: the title (slot and file name,
    // elided to what is free beside the window text), the window text, the bottom text
    // block and the orientation letters (left, right, top, bottom).
    struct AnnotationLayout {
        QString title;
        QString bottomText;  // slice, notices and read-out, one per line
        QRectF titleRect, windowRect, bottomRect;
        QString letters[4];
        QRectF letterRects[4];
    };
    AnnotationLayout annotationLayout() const;

    void setActive(bool active);
    // Text, orientation letters and colour bar on / off (the picture alone, for reading).
    void setAnnotationsVisible(bool visible);
    bool annotationsVisible() const { return annotations_; }

Q_SIGNALS:
    void viewChangedByUser(double zoom, QPointF center);  // for linked zoom / pan
    void pixelReadOut(const QString& text);  // on mouse moves, and on slice changes under the cursor
    void windowChanged(double center, double width);
    void sliceChanged(int slice);
    void fileDropped(const QString& path);
    void activated();
    void crosshairMoved(const ei::World& point);  // the Crosshair tool placed it here

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void rebuildDisplay();
    void rebuildOverlay();
    double pixelAspect() const;  // row spacing / column spacing
    void drawColorBar(QPainter& p, const SimilarityMap& map);
    void drawOrientation(QPainter& p, const AnnotationLayout& layout);
    void drawCornerText(QPainter& p, const AnnotationLayout& layout);
    QStringList bottomLines() const;
    void drawMeasurements(QPainter& p);
    void drawCrosshair(QPainter& p);
    void rebuildMask();
    std::vector<int> modelSlices() const;  // the slices the model saw, as shown here (empty: none here)
    QString shortLabel(const Measurement& m) const;
    bool event(QEvent* event) override;
    void measurePress(QPointF imagePoint);
    void measureRelease(QPointF imagePoint);
    void placeCrosshair(QPointF imagePoint);
    QString orientationLetter(QPointF screenDirection) const;

    QString slotName_;
    std::shared_ptr<const Image> source_;
    std::shared_ptr<const Image> image_;
    Reformat reformat_;
    std::optional<World> crosshair_;
    std::shared_ptr<const Image> maskSource_, maskShown_;
    MaskStyle maskStyle_ = MaskStyle::Outline;
    QImage maskImage_;
    std::shared_ptr<const InferenceResult> result_;
    const ModalityResult* modality_ = nullptr;
    OverlaySettings overlay_;
    QImage display_;
    QImage overlayImage_;
    OverlayRenderer::Range range_;
    double center_ = 127.5, width_ = 255.0;
    float dataMin_ = 0, dataMax_ = 255;
    int slice_ = 0;
    double zoom_ = 1.0;
    QPointF viewCenter_;
    bool fit_ = true;
    bool active_ = false;
    bool annotations_ = true;
    int rotation_ = 0;
    bool flipped_ = false;
    bool inverted_ = false;
    class QTimer* cine_ = nullptr;
    Tool tool_ = Tool::Navigate;
    MeasurementList* measurements_ = nullptr;
    std::optional<Measurement> pending_;  // being drawn
    QPointF hover_;                       // image point under the cursor while drawing
    enum class Drag { None, Pan, Window, Crosshair } drag_ = Drag::None;
    QPoint dragStart_;
    QPointF dragCenter_;
    double dragWindowCenter_ = 0, dragWindowWidth_ = 1;
    QString readOut_;
    QPointF readOutAt_;  // where the cursor was when readOut_ was made
};

}  // namespace ei
