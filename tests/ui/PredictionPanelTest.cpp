// The prediction panel shows exactly the numbers it is given (read back from the
// QCustomPlot charts), the top class in words, the 0.5 line for multi-label models and
// the intended use; the export report carries the same numbers and no identifiers
// unless asked.
#include "core/report/ExportReport.h"
#include "models/Error.h"
#include "tests/TestRegistry.h"
#include "ui/panels/PredictionPanel.h"
#include "ui/window/ExportImage.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QApplication>
#include <QtTest>

using namespace ei;

namespace {

std::shared_ptr<InferenceResult> sampleResult(bool multilabel)
{
    auto r = std::make_shared<InferenceResult>();
    r->classes = {"normal", "dryAMD", "PCV", "wetAMD"};
    r->multilabel = multilabel;
    r->device = "cpu";
    r->fusion = "ei";
    r->modelFingerprint = "abc123";
    r->fusedProbs = {0.1f, 0.2f, 0.05f, 0.65f};
    r->fusedLogits = {-1.0f, -0.3f, -2.0f, 1.2f};
    r->gate = {0.3f, 0.7f};
    ModalityResult cfp{"CFP", false, {0.1f, 0.2f, 0.3f, 0.4f}, {0.15f, 0.25f, 0.2f, 0.4f}, {0.0f, 0.1f, 0.2f, 0.3f},
                       {0.2f, 0.3f, 0.3f, 0.2f}, {}, {}};
    ModalityResult oct{"OCT", false, {0.5f, 0.2f, 0.1f, 0.9f}, {0.05f, 0.1f, 0.05f, 0.8f}, {}, {}, {}, {}};
    r->modalities = {cfp, oct};
    r->timingsMs = {{"total", 123.0}};
    return r;
}

void compareVec(const QVector<double>& got, const std::vector<float>& want)
{
    QCOMPARE(got.size(), int(want.size()));
    for (int i = 0; i < got.size(); ++i)
        QVERIFY(std::abs(got[i] - want[i]) < 1e-7);
}

}  // namespace

class PredictionPanelTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsTheResultsNumbers()
    {
        PredictionPanel panel;
        ModelSummary model;
        model.path = "/x/demo.eimodel";
        model.intendedUse = "synthetic demo, not for clinical use";
        panel.setModel(model);
        QVERIFY(panel.intendedUseText().contains("synthetic demo, not for clinical use"));
        auto r = sampleResult(false);
        panel.setResult(r);
        compareVec(panel.seriesValues("fused"), r->fusedProbs);
        compareVec(panel.seriesValues("CFP"), r->modalities[0].probs);
        compareVec(panel.seriesValues("OCT"), r->modalities[1].probs);
        compareVec(panel.gateValues(), r->gate);
        QVERIFY(!panel.seriesNames().contains("CFP (aux)"));
        panel.setShowAuxiliary(true);
        compareVec(panel.seriesValues("CFP (aux)"), r->modalities[0].auxProbs);
        QVERIFY(!panel.seriesNames().contains("OCT (aux)"));  // none given
        QVERIFY(panel.topClassText().contains("wetAMD"));
        QVERIFY(panel.topClassText().contains("65.0"));
        QVERIFY(!panel.hasThresholdLine());
        QVERIFY(panel.intendedUseText().contains("synthetic demo"));  // still there after a result
    }

    void chartsStayReadable()
    {
        // Issue 13, #13 and #14: the legend covered bars (auxiliary heads on, three classes),
        // and before any run the gate chart showed a bare 0..1 axis.
        PredictionPanel panel;
        panel.resize(400, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(!panel.gateAxesShown());
        QVERIFY(!panel.probabilityAxesShown());  // no squeezed 0..1 axes before a result either
        panel.setResult(sampleResult(false));
        panel.setShowAuxiliary(true);
        QVERIFY(panel.gateAxesShown());
        QVERIFY(panel.probabilityAxesShown());
        QApplication::processEvents();
        QVERIFY(!panel.legendCoversBars());
        panel.clearResult();
        QVERIFY(!panel.gateAxesShown());
    }

    void exportFooterStatesTheVerdict()
    {
        // The exported PNG's footer says what the panel says: the top class, or for a
        // multi-label model the classes at or above 0.5 (never a "most likely" there).
        ModelSummary model;
        model.path = "/x/demo.eimodel";
        const QStringList single = exportSummaryLines(*sampleResult(false), model);
        QCOMPARE(single.first(), QString("Most likely: wetAMD (65.0 %, fused)"));
        QVERIFY(single.contains("Fused: normal 10.0 %, dryAMD 20.0 %, PCV 5.0 %, wetAMD 65.0 %"));
        QVERIFY(single.last().startsWith("Model: demo.eimodel   SHA-256 abc123"));
        const QStringList multi = exportSummaryLines(*sampleResult(true), model);
        QCOMPARE(multi.first(), QString("Above 0.5: wetAMD (65.0 %) (fused)"));
        QVERIFY(!multi.join('\n').contains("Most likely"));
    }

    void multiLabelShowsTheDecisionLine()
    {
        PredictionPanel panel;
        auto r = sampleResult(true);
        panel.setResult(r);
        QVERIFY(panel.hasThresholdLine());
        QVERIFY(panel.topClassText().contains("wetAMD"));
        QVERIFY(!panel.topClassText().contains("normal"));
    }

    void missingIntendedUseIsSaid()
    {
        PredictionPanel panel;
        ModelSummary model;
        model.path = "/x/m.eimodel";
        panel.setModel(model);
        QVERIFY(panel.intendedUseText().contains("not stated"));
    }

    void exportReportCarriesTheNumbers()
    {
        auto r = sampleResult(false);
        ModelSummary model;
        model.path = "/secret/place/model.eimodel";
        model.intendedUse = "demo";
        Image im;
        im.width = 2;
        im.height = 2;
        im.slices = 1;
        im.channels = 1;
        im.tags.modality = "OP";
        im.patient.name = "DOE^JANE";
        im.patient.id = "PID-777";
        ExportReport report(*r, model);
        report.addInput({"CFP", "/home/DOE_JANE/cfp.png", &im});
        const QJsonObject plain = QJsonDocument::fromJson(QByteArray::fromStdString(report.toJson(false))).object();
        QCOMPARE(plain["fused"].toObject()["top_class"].toString(), QString("wetAMD"));
        const QJsonArray probs = plain["fused"].toObject()["probs"].toArray();
        for (int i = 0; i < 4; ++i)
            QVERIFY(std::abs(probs[i].toDouble() - r->fusedProbs[i]) < 1e-6);
        QVERIFY(std::abs(plain["gate"].toArray()[1].toDouble() - 0.7) < 1e-6);
        QCOMPARE(plain["model"].toObject()["fingerprint_sha256"].toString(), QString("abc123"));
        QCOMPARE(plain["modalities"].toArray()[1].toObject()["name"].toString(), QString("OCT"));
        const QString text = QString::fromStdString(report.toJson(false));
        QVERIFY(!text.contains("DOE"));  // neither the name nor the path that holds it
        QVERIFY(!text.contains("PID-777"));
        const QString withIds = QString::fromStdString(report.toJson(true));
        QVERIFY(withIds.contains("DOE^JANE"));
        QVERIFY(withIds.contains("PID-777"));

        QTemporaryDir dir;
        const std::string json = dir.filePath("r.json").toStdString();
        report.writeJson(json, false);
        QVERIFY(QFile::exists(QString::fromStdString(json)));
        QVERIFY_THROWS_EXCEPTION(ei::Error, ExportReport::writePng(dir.filePath("x.png").toStdString(), "not a png"));
        QVERIFY(!QFile::exists(dir.filePath("x.png")));
    }
};

EI_REGISTER_TEST(PredictionPanelTest);
#include "PredictionPanelTest.moc"
