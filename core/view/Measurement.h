// Measurements on an image or one slice of a volume: distance, angle, rectangle and
// ellipse regions. Points are in image pixel coordinates (pixel (i, j) spans
// [i, i+1) x [j, j+1)), so they stay put under zoom, pan, rotation and flips. Lengths and
// areas are in mm where the image has a pixel spacing and in pixels otherwise (the text
// says which); region statistics are over the pixels whose centres lie inside, and of
// the heat map over the same pixels when one is shown. MeasurementList holds them per
// study, for the viewports, the measurement panel and the export. Widget-free.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/io/Image.h"
#include "core/view/Reformat.h"

#include <QObject>
#include <QPointF>
#include <QString>
#include <QVector>

#include <optional>

namespace ei {

enum class MeasureKind { Distance, Angle, Rectangle, Ellipse };

struct Measurement {
    int id = 0;
    MeasureKind kind = MeasureKind::Distance;
    QString slot;             // the viewport's modality slot
    Plane plane = Plane::Stored;  // the plane it was drawn in (slice and points are that reformat's)
    int slice = 0;            // for volumes
    QVector<QPointF> points;  // distance: 2; angle: 3 (the middle one is the vertex); regions: 2 corners

    static int pointCount(MeasureKind kind) { return kind == MeasureKind::Angle ? 3 : 2; }
    bool complete() const { return points.size() == pointCount(kind); }
};

struct RegionStats {
    int pixels = 0;
    double mean = 0, sd = 0, min = 0, max = 0;  // grey value (mean of the channels for colour)
    double area = 0;                             // mm² or px²
    bool millimetres = false;
    std::optional<double> mapMean;               // mean heat-map value over the same pixels
};

// Length of a distance measurement; *millimetres tells the unit.
double measuredLength(const Measurement& m, const Image& image, bool* millimetres);
// Angle at the middle point, in degrees (in physical space when the spacing is known).
double measuredAngle(const Measurement& m, const Image& image);
// Statistics of a rectangle / ellipse; map: the heat map shown on that slice (or null).
RegionStats regionStats(const Measurement& m, const Image& image, const SimilarityMap* map = nullptr, int mapSlice = -1);
// One line for the panel and the export: "Distance 12.4 mm", "Ellipse: mean 104.2, SD ...".
QString describeMeasurement(const Measurement& m, const Image& image, const SimilarityMap* map = nullptr, int mapSlice = -1);
QString measureKindName(MeasureKind kind);

class MeasurementList : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    int add(Measurement m);  // returns its id
    void remove(int id);
    void clear();
    void clearSlot(const QString& slot);
    void swapSlots(const QString& a, const QString& b);  // the images swapped slots
    const QVector<Measurement>& all() const { return items_; }
    QVector<Measurement> on(const QString& slot, int slice, Plane plane = Plane::Stored) const;

Q_SIGNALS:
    void changed();

private:
    QVector<Measurement> items_;
    int nextId_ = 1;
};

}  // namespace ei
