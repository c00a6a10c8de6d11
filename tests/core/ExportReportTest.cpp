// The export report keeps identifiers out unless asked: patient name, ID, birth date,
// accession, full paths, and the study date (a date is an identifier under HIPAA's Safe
// Harbor rule); with identifiers ticked they are all there.
#include "core/report/ExportReport.h"
#include "tests/TestRegistry.h"

#include <QtTest>

#include <nlohmann/json.hpp>

using namespace ei;

class ExportReportTest : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void identifiersOnlyWhenAsked()
    {
        InferenceResult result;
        result.classes = {"normal", "lesion"};
        result.fusedProbs = {0.3f, 0.7f};
        result.gate = {0.4f, 0.6f};
        ModelSummary model;
        model.path = "/models/eye.eimodel";
        Image image;
        image.height = image.width = 4;
        image.tags.modality = "OP";
        image.tags.studyDate = "20240317";
        image.patient.name = "Doe^Jane";
        image.patient.id = "PID-778";
        image.patient.birthDate = "19610203";
        ExportReport report(result, model);
        report.addInput({"CFP", "/archive/Doe_Jane/fundus.dcm", &image});

        const std::string plain = report.toJson(false);
        for (const char* identifier : {"20240317", "Doe^Jane", "PID-778", "19610203", "/archive/Doe_Jane"})
            QVERIFY2(plain.find(identifier) == std::string::npos, identifier);
        const auto j = nlohmann::json::parse(plain);
        QCOMPARE(j["inputs"][0]["file"].get<std::string>(), std::string("fundus.dcm"));
        QCOMPARE(j["inputs"][0]["modality"].get<std::string>(), std::string("OP"));
        QCOMPARE(j["patient_identifiers_included"].get<bool>(), false);

        const auto full = nlohmann::json::parse(report.toJson(true));
        QCOMPARE(full["inputs"][0]["study_date"].get<std::string>(), std::string("20240317"));
        QCOMPARE(full["inputs"][0]["patient"]["name"].get<std::string>(), std::string("Doe^Jane"));
        QCOMPARE(full["inputs"][0]["path"].get<std::string>(), std::string("/archive/Doe_Jane/fundus.dcm"));
    }
};

EI_REGISTER_TEST(ExportReportTest);
#include "ExportReportTest.moc"
