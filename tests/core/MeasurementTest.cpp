// Measurements (core/view/Measurement): lengths and areas in mm where the spacing is
// known and in pixels where not, angles, region statistics over the pixels whose centres
// lie inside, the heat-map mean over the same pixels, and the list's bookkeeping. The
// expected numbers are worked out by hand in the comments.
#include "core/view/MapSampling.h"
#include "core/view/Measurement.h"
#include "tests/TestRegistry.h"

#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace ei;

namespace {

// 10 x 6 image: columns 0..4 hold 10, columns 5..9 hold 30.
Image halves(bool spacing)
{
    Image im;
    im.slices = 1;
    im.height = 6;
    im.width = 10;
    im.channels = 1;
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 10; ++x)
            im.pixels.push_back(x < 5 ? 10.0f : 30.0f);
    if (spacing) {
        im.hasGeometry = true;
        im.spacing = {0.5, 2.0, 1.0};  // columns 0.5 mm apart, rows 2 mm
    }
    return im;
}

Measurement make(MeasureKind kind, QVector<QPointF> points)
{
    Measurement m;
    m.kind = kind;
    m.slot = "CFP";
    m.points = std::move(points);
    return m;
}

}  // namespace

class MeasurementTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void lengthsInMillimetresOrPixels()
    {
        const Measurement d = make(MeasureKind::Distance, {{1, 1}, {4, 5}});  // 3 px across, 4 px down
        bool mm = true;
        QCOMPARE(measuredLength(d, halves(false), &mm), 5.0);
        QVERIFY(!mm);
        QVERIFY(describeMeasurement(d, halves(false)).contains("px (no pixel spacing)"));
        // 3 x 0.5 = 1.5 mm across, 4 x 2 = 8 mm down: sqrt(2.25 + 64)
        QVERIFY(std::abs(measuredLength(d, halves(true), &mm) - std::sqrt(66.25)) < 1e-12);
        QVERIFY(mm);
        QVERIFY(describeMeasurement(d, halves(true)).contains("8.1 mm"));
    }

    void anglesAtTheMiddlePoint()
    {
        QVERIFY(std::abs(measuredAngle(make(MeasureKind::Angle, {{5, 1}, {1, 1}, {1, 4}}), halves(false)) - 90.0) < 1e-9);
        QVERIFY(std::abs(measuredAngle(make(MeasureKind::Angle, {{2, 2}, {1, 1}, {2, 1}}), halves(false)) - 45.0) < 1e-9);
        // with spacing the same pixels make another angle: (1 px, 1 px) is (0.5 mm, 2 mm)
        const double expected = std::atan2(2.0, 0.5) * 180.0 / M_PI;
        QVERIFY(std::abs(measuredAngle(make(MeasureKind::Angle, {{2, 2}, {1, 1}, {2, 1}}), halves(true)) - expected) < 1e-9);
        QCOMPARE(measuredAngle(make(MeasureKind::Angle, {{1, 1}, {1, 1}, {2, 1}}), halves(false)), 0.0);  // no NaN
    }

    void regionStatisticsOverPixelCentres()
    {
        const Image im = halves(true);
        // Columns 3..6 (centres 3.5..6.5 lie in [3, 7]), rows 0..1: 2 x 4 pixels, half 10, half 30.
        const RegionStats r = regionStats(make(MeasureKind::Rectangle, {{3, 0}, {7, 2}}), im);
        QCOMPARE(r.pixels, 8);
        QCOMPARE(r.mean, 20.0);
        QCOMPARE(r.min, 10.0);
        QCOMPARE(r.max, 30.0);
        QVERIFY(std::abs(r.sd - std::sqrt(8 * 100.0 / 7)) < 1e-9);  // sample SD: 8 deviations of 10, n - 1 = 7
        QCOMPARE(r.area, 4 * 0.5 * 2 * 2.0);                          // 2 mm x 4 mm
        QVERIFY(r.millimetres);
        QVERIFY(!r.mapMean);
        // corners given in any order
        QCOMPARE(regionStats(make(MeasureKind::Rectangle, {{7, 2}, {3, 0}}), im).pixels, 8);
        // Ellipse in the left half: all 10, area pi/4 x 2 mm x 12 mm.
        const RegionStats e = regionStats(make(MeasureKind::Ellipse, {{0, 0}, {4, 6}}), im);
        QCOMPARE(e.mean, 10.0);
        QCOMPARE(e.sd, 0.0);
        QVERIFY(e.pixels > 0 && e.pixels < 24);  // the corners of the 4 x 6 box are outside
        QVERIFY(std::abs(e.area - M_PI / 4 * 2.0 * 12.0) < 1e-9);
        // On colour, the statistics are of the grey value, and the text says so.
        Image colour = im;
        colour.channels = 3;
        colour.pixels.clear();
        for (float v : im.pixels)
            colour.pixels.insert(colour.pixels.end(), {v, v, v});
        QVERIFY(describeMeasurement(make(MeasureKind::Rectangle, {{3, 0}, {7, 2}}), colour).contains("mean of R, G, B"));
        QVERIFY(!describeMeasurement(make(MeasureKind::Rectangle, {{3, 0}, {7, 2}}), im).contains("mean of R, G, B"));
        // Off the image: nothing, no NaN.
        const RegionStats out = regionStats(make(MeasureKind::Rectangle, {{20, 20}, {30, 30}}), im);
        QCOMPARE(out.pixels, 0);
        QCOMPARE(out.mean, 0.0);
    }

    void regionStatisticsOfTheHeatMap()
    {
        // A 2 x 2 map (patch 5) over a 10 x 10 model input: left cells 1, right cells -1.
        SimilarityMap map;
        map.kind = "cls";
        map.gridH = map.gridW = 2;
        map.patch = 5;
        map.inputHeight = map.inputWidth = 10;
        map.values = {1, -1, 1, -1};
        Image im = halves(false);  // 10 x 6: the map is stretched over it
        // Column 0 lies left of the first cell centre (2.5): clamped to 1.
        const RegionStats r = regionStats(make(MeasureKind::Rectangle, {{0, 0}, {2, 6}}), im, &map, 0);
        QVERIFY(r.mapMean);
        QVERIFY(std::abs(*r.mapMean - 1.0) < 1e-6);
        // Columns 4 and 5 straddle the middle symmetrically: mean 0.
        const RegionStats mid = regionStats(make(MeasureKind::Rectangle, {{4, 0}, {6, 6}}), im, &map, 0);
        QVERIFY(std::abs(*mid.mapMean) < 1e-6);
        QVERIFY(describeMeasurement(make(MeasureKind::Rectangle, {{0, 0}, {2, 6}}), im, &map, 0).contains("heat map mean 1.000"));
        // The map on the whole image agrees with the per-pixel sampling.
        const std::vector<float> whole = mapOnImage(map, 0, 10, 6);
        QCOMPARE(whole[0], 1.0f);
        QCOMPARE(whole[9], -1.0f);
    }

    void findMapFollowsTheModelsSlices()
    {
        InferenceResult result;
        ModalityResult m;
        m.name = "AX";
        SimilarityMap map;
        map.kind = "cls";
        map.slices = 2;
        map.gridH = map.gridW = 1;
        map.values = {0.5f, 0.7f};
        m.maps.push_back(map);
        m.sliceIndices = {3, 8};
        result.modalities.push_back(m);
        Image vol;
        vol.slices = 10;
        int k = -2;
        QVERIFY(findMap(result, "AX", {}, vol, 8, &k));
        QCOMPARE(k, 1);
        QVERIFY(!findMap(result, "AX", {}, vol, 4, &k));  // a slice the model did not see
        QCOMPARE(k, -1);
        QVERIFY(!findMap(result, "AX", {{"AX", ""}}, vol, 8, &k));  // overlay hidden
        QVERIFY(!findMap(result, "AX", {{"AX", "delta"}}, vol, 8, &k));
        QVERIFY(!findMap(result, "SAG", {}, vol, 8, &k));
    }

    void theListKeepsIdsAndFollowsTheSlots()
    {
        MeasurementList list;
        QSignalSpy changed(&list, &MeasurementList::changed);
        const int a = list.add(make(MeasureKind::Distance, {{0, 0}, {1, 1}}));
        Measurement other = make(MeasureKind::Angle, {{0, 0}, {1, 1}, {2, 0}});
        other.slot = "OCT";
        other.slice = 4;
        const int b = list.add(other);
        QVERIFY(a != b);
        QCOMPARE(list.on("OCT", 4).size(), 1);
        QCOMPARE(list.on("OCT", 3).size(), 0);
        list.swapSlots("CFP", "OCT");
        QCOMPARE(list.on("OCT", 0).size(), 1);
        QCOMPARE(list.on("CFP", 4).size(), 1);
        list.clearSlot("CFP");
        QCOMPARE(list.all().size(), 1);
        list.remove(a);
        QVERIFY(list.all().isEmpty());
        list.remove(a);  // twice: nothing, no signal
        QCOMPARE(changed.size(), 5);
    }
};

EI_REGISTER_TEST(MeasurementTest);
#include "MeasurementTest.moc"
