// Viewport, overlay geometry, colour maps, window presets and linked views, on synthetic
// images and maps whose expected pixels are computed here independently.
#include "core/inference/InferenceResult.h"
#include "tests/TestRegistry.h"
#include "ui/viewer/ColorMap.h"
#include "ui/viewer/OverlayRenderer.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"
#include "ui/viewer/WindowPresets.h"

#include <QSignalSpy>
#include <QtTest>

#include <cmath>

using namespace ei;

namespace {

std::shared_ptr<Image> greyImage(int w, int h, float value, int slices = 1)
{
    auto im = std::make_shared<Image>();
    im->width = w;
    im->height = h;
    im->slices = slices;
    im->channels = 1;
    im->pixels.assign(std::size_t(w) * h * slices, value);
    im->windowCenter = 127.5;
    im->windowWidth = 255;
    im->format = "png";
    return im;
}

// A 4x4 map over a 60x60 model input (patch 16, padded to 64): left two columns 1, right
// two -1 (per slice).
SimilarityMap halfMap(int slices = 1)
{
    SimilarityMap m;
    m.kind = "cls";
    m.slices = slices;
    m.gridH = 4;
    m.gridW = 4;
    m.patch = 16;
    m.inputHeight = 60;
    m.inputWidth = 60;
    for (int s = 0; s < slices; ++s)
        for (int r = 0; r < 4; ++r)
            for (int c = 0; c < 4; ++c)
                m.values.push_back(c < 2 ? 1.0f : -1.0f);
    return m;
}

std::shared_ptr<InferenceResult> resultWith(const SimilarityMap& map, const std::string& name = "CFP",
                                            std::vector<int> slices = {})
{
    auto r = std::make_shared<InferenceResult>();
    ModalityResult m;
    m.name = name;
    m.maps.push_back(map);
    SimilarityMap noint = map;
    noint.kind = "cls_noint";
    for (auto& v : noint.values)
        v = 0.0f;
    m.maps.push_back(noint);
    m.sliceIndices = std::move(slices);
    r->modalities.push_back(m);
    return r;
}

QColor widgetPixel(Viewport& v, QPointF imagePoint)
{
    const QImage shot = v.grab().toImage();
    const QPointF w = v.imageToWidget(imagePoint);
    return shot.pixelColor(int(std::floor(w.x())), int(std::floor(w.y())));
}

bool near(const QColor& a, QRgb b, int tol = 3)
{
    return std::abs(a.red() - qRed(b)) <= tol && std::abs(a.green() - qGreen(b)) <= tol && std::abs(a.blue() - qBlue(b)) <= tol;
}

QString str(const QColor& c) { return QStringLiteral("(%1,%2,%3)").arg(c.red()).arg(c.green()).arg(c.blue()); }

}  // namespace

class ViewportTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void windowLevelMapsPixelsAsComputed()
    {
        auto im = greyImage(5, 4, 0);
        for (int i = 0; i < 20; ++i)
            im->pixels[i] = float(i * 50);  // 0 .. 950
        Viewport v;
        v.resize(200, 200);
        v.setImage(im);
        v.setWindow(500, 200);
        const QImage& d = v.displayImage();
        QCOMPARE(d.width(), 5);
        for (int i = 0; i < 20; ++i) {
            const int expected = std::clamp(int(std::lround((i * 50 - 400) * 255.0 / 200.0)), 0, 255);
            QCOMPARE(qGray(d.pixel(i % 5, i / 5)), expected);
        }
        QCOMPARE(v.windowCenter(), 500.0);
        QCOMPARE(v.windowWidth(), 200.0);

        im->photometric = "MONOCHROME1";  // displayed inverted, stored values untouched
        v.setImage(im);
        v.setWindow(500, 200);
        QCOMPARE(qGray(v.displayImage().pixel(0, 0)), 255);
        QCOMPARE(qGray(v.displayImage().pixel(4, 3)), 0);
    }

    void colourMapsMatchReferenceEnds()
    {
        // matplotlib's tables: viridis 0 = #440154, 1 = #fde725; inferno 0 = #000004, 1 = #fcffa4.
        // (the polynomial fits stay within 5/255 of the tables)
        QVERIFY(near(QColor(ColorMap::byName("viridis").at(0)), qRgb(0x44, 0x01, 0x54), 5));
        QVERIFY(near(QColor(ColorMap::byName("viridis").at(1)), qRgb(0xfd, 0xe7, 0x25), 5));
        QVERIFY(near(QColor(ColorMap::byName("inferno").at(0)), qRgb(0x00, 0x00, 0x04), 5));
        QVERIFY(near(QColor(ColorMap::byName("inferno").at(1)), qRgb(0xfc, 0xff, 0xa4), 5));
        QCOMPARE(ColorMap::byName("jet").at(0), qRgb(0, 0, 128));
        QCOMPARE(ColorMap::byName("jet").at(1), qRgb(128, 0, 0));
        const QColor mid(ColorMap::byName("diverging").at(0.5));
        QVERIFY2(near(mid, qRgb(221, 221, 221), 3), qPrintable(str(mid)));  // no change reads neutral grey
    }

    void mapSamplingFollowsTheModelGeometry()
    {
        // Cell (r, c) holds c: the bilinear value at model pixel centre u is u/p - 0.5,
        // clamped to the outer cell centres; image pixels map by the resize scale.
        SimilarityMap m;
        m.kind = "cls";
        m.gridH = 2;
        m.gridW = 4;
        m.patch = 14;
        m.inputHeight = 28;
        m.inputWidth = 50;  // padded to 56: the last column is partly padding
        for (int r = 0; r < 2; ++r)
            for (int c = 0; c < 4; ++c)
                m.values.push_back(float(c));
        for (double u : {0.5, 7.0, 10.5, 21.0, 30.0, 49.5}) {
            const double expected = std::clamp(u / 14.0 - 0.5, 0.0, 3.0);
            QVERIFY(std::abs(OverlayRenderer::sampleInput(m, 0, u, 5.0) - expected) < 1e-5);
        }
        // original image 100 wide: pixel x covers input (x + 0.5) * 50 / 100
        QVERIFY(std::abs(OverlayRenderer::sampleImagePixel(m, 0, 41, 3, 100, 56) - ((41.5 * 0.5) / 14.0 - 0.5)) < 1e-5);
        const QImage img = OverlayRenderer::render(m, 0, ColorMap::byName("viridis"), {0.0f, 3.0f}, 1.0, 0.0);
        QCOMPARE(img.size(), QSize(50, 28));  // the padding is cropped away
    }

    void overlayTogglesAndChangesPixels()
    {
        Viewport v;
        v.setSlotName("CFP");
        v.resize(300, 240);
        v.setImage(greyImage(128, 96, 100.0f));
        v.setResult(resultWith(halfMap()));
        OverlaySettings s;
        s.opacity = 0.6;
        v.setOverlaySettings(s);
        v.setAnnotationsVisible(false);
        QVERIFY(v.currentMap());
        const QPointF p(20, 40);
        const QColor on = widgetPixel(v, p);
        s.visible = false;
        v.setOverlaySettings(s);
        const QColor off = widgetPixel(v, p);
        QCOMPARE(off, QColor(100, 100, 100));  // the window maps 100 to round(100*255/255)
        // expected: 0.6 * viridis(1) + 0.4 * grey
        const QRgb top = ColorMap::byName("viridis").at(1.0);
        const QRgb expected = qRgb(int(0.6 * qRed(top) + 0.4 * 100), int(0.6 * qGreen(top) + 0.4 * 100),
                                   int(0.6 * qBlue(top) + 0.4 * 100));
        QVERIFY2(near(on, expected, 4), qPrintable(str(on)));

        s.visible = true;
        s.kind = "cls_noint";  // a flat map: a different picture
        v.setOverlaySettings(s);
        QVERIFY(widgetPixel(v, p) != on);
    }

    void overlayStaysAlignedUnderZoomAndPan()
    {
        Viewport v;
        v.setSlotName("CFP");
        v.resize(320, 260);
        v.setImage(greyImage(128, 96, 30.0f));
        v.setResult(resultWith(halfMap()));
        OverlaySettings s;
        s.opacity = 1.0;
        v.setOverlaySettings(s);
        const QRgb hi = ColorMap::byName("viridis").at(1.0), lo = ColorMap::byName("viridis").at(0.0);
        // Left cells (map 1) end at model x 32 = image x 68.3; right cells (-1) start
        // there; the bilinear ramp spans image x 51..85.
        v.setAnnotationsVisible(false);  // sample the picture, not the labels
        const std::vector<std::pair<QPointF, QRgb>> samples{
            {{20.5, 50.5}, hi}, {{8.5, 8.5}, hi}, {{110.5, 20.5}, lo}, {{120.5, 85.5}, lo}};
        auto check = [&](const char* what) {
            int checked = 0;
            for (const auto& [point, want] : samples) {
                const QPointF w = v.imageToWidget(point);
                if (w.x() < 2 || w.y() < 2 || w.x() > v.width() - 3 || w.y() > v.height() - 3)
                    continue;  // off screen at this zoom / pan
                ++checked;
                const QColor got = widgetPixel(v, point);
                QVERIFY2(near(got, want), qPrintable(QString("%1 at image (%2, %3): %4").arg(what).arg(point.x()).arg(point.y()).arg(str(got))));
            }
            QVERIFY2(checked >= 1, what);
        };
        check("fit");
        v.zoomBy(3.0, v.imageToWidget(QPointF(20, 50)));
        check("zoom 3x");
        v.setView(5.0, QPointF(110, 22));  // pan to the right half, zoomed in
        check("pan");
        v.setView(0.7, QPointF(10, 10));
        check("zoom out");
        // the image point under the zoom anchor stays put
        const QPointF anchor(150, 120), before = v.widgetToImage(anchor);
        v.zoomBy(2.0, anchor);
        const QPointF after = v.widgetToImage(anchor);
        QVERIFY(std::abs(before.x() - after.x()) < 1e-9 && std::abs(before.y() - after.y()) < 1e-9);
    }

    void thresholdHidesWeakCells()
    {
        Viewport v;
        v.setSlotName("CFP");
        v.resize(300, 240);
        v.setImage(greyImage(128, 96, 100.0f));
        v.setResult(resultWith(halfMap()));
        OverlaySettings s;
        s.opacity = 1.0;
        s.threshold = 0.5;  // the -1 half is at 0 of the range: hidden
        v.setOverlaySettings(s);
        v.setAnnotationsVisible(false);
        QCOMPARE(widgetPixel(v, QPointF(110.5, 20.5)), QColor(100, 100, 100));
        QVERIFY(widgetPixel(v, QPointF(20.5, 50.5)) != QColor(100, 100, 100));
    }

    void volumesShowMapsOnTheModelsSlices()
    {
        Viewport v;
        v.setSlotName("SAG");
        v.resize(200, 200);
        v.setImage(greyImage(64, 64, 50.0f, 20));
        QCOMPARE(v.sliceCount(), 20);
        v.setResult(resultWith(halfMap(4), "SAG", {2, 7, 12, 17}));
        QVERIFY(v.currentMapSlice() >= 0);  // jumped to a slice the model saw
        v.setSlice(12);
        QCOMPARE(v.currentMapSlice(), 2);
        v.setSlice(13);
        QCOMPARE(v.currentMapSlice(), -1);
        v.stepToModelSlice(+1);
        QCOMPARE(v.slice(), 17);
        v.stepToModelSlice(-1);
        QCOMPARE(v.slice(), 12);

        // Issue 13, #17: the read-out follows a slice change made from the keyboard.
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        QSignalSpy readOut(&v, &Viewport::pixelReadOut);
        QTest::mouseMove(&v, QPoint(100, 100));
        QVERIFY(!readOut.isEmpty());
        QVERIFY2(readOut.last().first().toString().contains("z 12"), qPrintable(readOut.last().first().toString()));
        v.setSlice(13);
        QVERIFY2(readOut.last().first().toString().contains("z 13"), qPrintable(readOut.last().first().toString()));
    }

    void annotationsMakeRoomForTheColourBar()
    {
        // Issue 13, #15: toggling the annotations (I) off and on did not re-fit, so the
        // colour bar came back over the image.
        Viewport v;
        v.resize(200, 400);  // the width limits the fit: the bar's room matters
        v.setImage(greyImage(100, 100, 50.0f, 1));
        v.fitToWindow();
        const double withBar = v.zoom();
        v.setAnnotationsVisible(false);
        QVERIFY2(v.zoom() > withBar, qPrintable(QString("%1 vs %2").arg(v.zoom()).arg(withBar)));
        v.setAnnotationsVisible(true);
        QCOMPARE(v.zoom(), withBar);
    }

    void annotationsNeverOverlap()
    {
        // Issue 13, #7: in a 1 x 3 layout the file name ran into the W/L text; #17: the
        // read-out ran over the bottom orientation letter.
        Viewport v;
        v.resize(300, 300);  // a third of a small screen
        auto im = greyImage(64, 64, 10.0f, 5);
        im->hasGeometry = true;  // axial: P at the bottom
        im->sourcePath = "/data/a-very-long-study-folder/series-file-name-that-runs-on-and-on.dcm";
        v.setSlotName("AXIAL");
        v.setImage(im);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        QTest::mouseMove(&v, QPoint(150, 150));  // a read-out line under the slice line
        const Viewport::AnnotationLayout l = v.annotationLayout();
        QVERIFY(!l.title.isEmpty());
        QVERIFY2(!l.titleRect.intersects(l.windowRect), "title over the W/L text");
        QFontMetricsF fm(v.font());
        QVERIFY(l.title.contains(QChar(0x2026)));  // elided, not overdrawn
        QCOMPARE(l.letters[3], QStringLiteral("P"));
        QVERIFY2(!l.letterRects[3].intersects(l.bottomRect), "bottom letter under the read-out");
        for (int i = 0; i < 4; ++i)
            QVERIFY(!l.letterRects[i].intersects(l.titleRect) || i != 2);
    }

    void rotateFlipAndInvertChangeTheViewOnly()
    {
        Viewport v;
        v.resize(400, 400);
        auto im = greyImage(100, 100, 0.0f);
        for (int y = 0; y < 100; ++y)
            for (int x = 0; x < 50; ++x)
                im->pixels[std::size_t(y) * 100 + x] = 255.0f;  // left half white
        im->hasGeometry = true;  // rows go to L, columns to P
        v.setImage(im);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        QCOMPARE(v.annotationLayout().letters[1], QStringLiteral("L"));
        QCOMPARE(v.annotationLayout().letters[3], QStringLiteral("P"));
        const QPointF c = v.imageToWidget(QPointF(50, 50));
        const QPointF right = v.imageToWidget(QPointF(90, 50));
        QVERIFY(right.x() > c.x() + 10);
        v.rotate(1);  // clockwise: what was right is now below
        const QPointF c1 = v.imageToWidget(QPointF(50, 50)), r1 = v.imageToWidget(QPointF(90, 50));
        QVERIFY2(r1.y() > c1.y() + 10 && std::abs(r1.x() - c1.x()) < 1e-6, qPrintable(QString("%1 %2").arg(r1.x()).arg(r1.y())));
        QCOMPARE(v.annotationLayout().letters[3], QStringLiteral("L"));
        QCOMPARE(v.annotationLayout().letters[0], QStringLiteral("P"));
        // the widget pixel at an image point shows that point's value after rotation
        QVERIFY(widgetPixel(v, QPointF(20, 50)).red() > 200);
        QVERIFY(widgetPixel(v, QPointF(80, 50)).red() < 50);
        // round trip through the transform
        const QPointF back = v.widgetToImage(v.imageToWidget(QPointF(12.5, 70.25)));
        QVERIFY(std::abs(back.x() - 12.5) < 1e-9 && std::abs(back.y() - 70.25) < 1e-9);
        v.rotate(-1);
        v.setFlipped(true);  // mirrored: the white half is on the right of the screen
        QVERIFY(v.imageToWidget(QPointF(20, 50)).x() > v.imageToWidget(QPointF(80, 50)).x());
        QCOMPARE(v.annotationLayout().letters[1], QStringLiteral("R"));
        QVERIFY(widgetPixel(v, QPointF(20, 50)).red() > 200);
        v.setInverted(true);
        QVERIFY(widgetPixel(v, QPointF(20, 50)).red() < 50);
        QCOMPARE(im->pixels[0], 255.0f);  // the data is untouched
        v.resetOrientation();
        QVERIFY(!v.flipped() && !v.inverted() && v.rotation() == 0);
        QVERIFY(widgetPixel(v, QPointF(20, 50)).red() > 200);
    }

    void cineLoopsThroughTheSlices()
    {
        Viewport v;
        v.resize(200, 200);
        v.setImage(greyImage(8, 8, 1.0f, 3));
        QCOMPARE(v.slice(), 1);
        QSignalSpy spy(&v, &Viewport::sliceChanged);
        v.setCine(true, 50.0);
        QVERIFY(v.cineRunning());
        QTRY_VERIFY_WITH_TIMEOUT(spy.size() >= 3, 2000);
        QCOMPARE(spy.at(0).first().toInt(), 2);
        QCOMPARE(spy.at(1).first().toInt(), 0);  // loops
        v.setCine(false);
        QVERIFY(!v.cineRunning());
        Viewport flat;
        flat.setImage(greyImage(8, 8, 1.0f, 1));
        flat.setCine(true);
        QVERIFY(!flat.cineRunning());  // nothing to play on a 2-D image
    }

    void measuringWithTheMouse()
    {
        Viewport v;
        v.resize(400, 400);
        auto im = greyImage(100, 100, 40.0f, 3);
        im->hasGeometry = true;
        im->spacing = {0.5, 0.5, 2.0};
        v.setSlotName("AX");
        v.setImage(im);
        MeasurementList list;
        v.setMeasurements(&list);
        v.show();
        QVERIFY(QTest::qWaitForWindowExposed(&v));
        v.rotate(1);  // points are image points whatever the view
        const auto at = [&v](double x, double y) { return v.imageToWidget(QPointF(x, y)).toPoint(); };

        // Distance: a drag.
        v.setTool(Viewport::Tool::Distance);
        QTest::mousePress(&v, Qt::LeftButton, {}, at(10, 10));
        QTest::mouseMove(&v, at(40, 50));
        QVERIFY(v.measuring());
        QTest::mouseRelease(&v, Qt::LeftButton, {}, at(40, 50));
        QCOMPARE(list.all().size(), 1);
        const Measurement d = list.all().first();
        QCOMPARE(d.slot, QString("AX"));
        QCOMPARE(d.slice, 1);
        bool mm = false;
        QVERIFY2(std::abs(measuredLength(d, *im, &mm) - 25.0) < 0.5, qPrintable(QString::number(measuredLength(d, *im, &mm))));  // 50 px x 0.5 mm
        QVERIFY(mm);
        // A click without a drag is not a measurement.
        QTest::mouseClick(&v, Qt::LeftButton, {}, at(60, 60));
        QCOMPARE(list.all().size(), 1);

        // Angle: three clicks; Escape drops one half drawn.
        v.setTool(Viewport::Tool::Angle);
        QTest::mouseClick(&v, Qt::LeftButton, {}, at(10, 50));
        QVERIFY(v.measuring());
        QTest::keyClick(&v, Qt::Key_Escape);
        QVERIFY(!v.measuring());
        QTest::mouseClick(&v, Qt::LeftButton, {}, at(60, 20));
        QTest::mouseClick(&v, Qt::LeftButton, {}, at(20, 20));
        QTest::mouseClick(&v, Qt::LeftButton, {}, at(20, 70));
        QCOMPARE(list.all().size(), 2);
        QVERIFY(std::abs(measuredAngle(list.all().last(), *im) - 90.0) < 2.0);

        // An ellipse on another slice is drawn there only.
        v.setSlice(2);
        v.setTool(Viewport::Tool::Ellipse);
        QTest::mousePress(&v, Qt::LeftButton, {}, at(30, 30));
        QTest::mouseMove(&v, at(70, 60));
        QTest::mouseRelease(&v, Qt::LeftButton, {}, at(70, 60));
        QCOMPARE(list.on("AX", 2).size(), 1);
        QCOMPARE(regionStats(list.on("AX", 2).first(), *im).mean, 40.0);
        // It is drawn: the outline's colour appears on screen, and not on slice 0.
        auto inkPixels = [&v] {
            const QImage shot = v.grab().toImage();
            int n = 0;
            for (int y = 0; y < shot.height(); ++y)
                for (int x = 0; x < shot.width(); ++x) {
                    const QColor c = shot.pixelColor(x, y);
                    n += c.red() > 200 && c.green() > 170 && c.blue() < 120;
                }
            return n;
        };
        QVERIFY(inkPixels() > 50);
        v.setSlice(0);
        QCOMPARE(inkPixels(), 0);
        // Navigating again: a left drag pans, nothing new is measured.
        v.setTool(Viewport::Tool::Navigate);
        QTest::mousePress(&v, Qt::LeftButton, {}, at(30, 30));
        QTest::mouseMove(&v, at(50, 50));
        QTest::mouseRelease(&v, Qt::LeftButton, {}, at(50, 50));
        QCOMPARE(list.all().size(), 3);
    }

    void linkedViewsFollowInRelativeTerms()
    {
        ViewportGrid grid;
        grid.resize(800, 400);
        grid.setSlots({"A", "B"});
        QCOMPARE(ViewportGrid::shapeFor(2), std::make_pair(1, 2));
        QCOMPARE(ViewportGrid::shapeFor(3), std::make_pair(1, 3));
        QCOMPARE(ViewportGrid::shapeFor(4), std::make_pair(2, 2));
        grid.show();
        QVERIFY(QTest::qWaitForWindowExposed(&grid));
        Viewport* a = grid.viewport("A");
        Viewport* b = grid.viewport("B");
        a->setImage(greyImage(100, 100, 10));
        b->setImage(greyImage(200, 50, 10));
        grid.setLinked(true);
        a->zoomBy(2.0);
        QVERIFY(std::abs(b->zoom() / b->fitZoom() - a->zoom() / a->fitZoom()) < 1e-9);
        QVERIFY(std::abs(b->viewCenter().x() / 200 - a->viewCenter().x() / 100) < 1e-9);
        grid.setLinked(false);
        const double bz = b->zoom();
        a->zoomBy(2.0);
        QCOMPARE(b->zoom(), bz);
    }

    void windowPresetsAreData()
    {
        QVERIFY(!WindowPresets::bundled().all().isEmpty());
        QStringList ct;
        for (const auto& p : WindowPresets::bundled().forModality("CT"))
            ct << p.name;
        QVERIFY2(ct.contains("CT brain"), qPrintable(ct.join(", ")));  // the data file, not the fallback
        QString error;
        const WindowPresets p = WindowPresets::fromJson(
            R"({"format":"eiview-window-presets","version":1,"presets":[
                {"name":"abs","modalities":["CT"],"center":40,"width":80},
                {"name":"pct","modalities":["*"],"percentiles":[0,100]}]})",
            &error);
        QCOMPARE(p.all().size(), 2);
        QCOMPARE(p.forModality("MR").size(), 1);
        auto im = greyImage(10, 10, 0);
        for (int i = 0; i < 100; ++i)
            im->pixels[i] = float(i);
        const auto [c, w] = WindowPresets::windowFor(p.all()[1], *im);
        QCOMPARE(c, 49.5);
        QCOMPARE(w, 99.0);
        QCOMPARE(WindowPresets::windowFor(p.all()[0], *im).first, 40.0);
        QVERIFY(WindowPresets::fromJson("{not json", &error).all().isEmpty());
        QVERIFY(!error.isEmpty());
    }
};

EI_REGISTER_TEST(ViewportTest);
#include "ViewportTest.moc"
