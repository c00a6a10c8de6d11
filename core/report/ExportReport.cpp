// See ExportReport.h.
#include "core/report/ExportReport.h"

#include "core/inference/Uncertainty.h"

#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <QDateTime>
#include <QFileInfo>

namespace ei {

ExportReport::ExportReport(const InferenceResult& result, const ModelSummary& model) : result_(result), model_(model) {}

std::string ExportReport::toJson(bool includePatientIdentifiers) const
{
    using nlohmann::json;
    json j;
    j["software"] = {{"name", "EIView"}, {"version", EIVIEW_VERSION_STRING}};
    j["created"] = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString();
    j["model"] = {{"file", QFileInfo(QString::fromStdString(model_.path)).fileName().toStdString()},
                  {"fingerprint_sha256", result_.modelFingerprint.empty() ? model_.fingerprint : result_.modelFingerprint},
                  {"family", model_.family},
                  {"intended_use", model_.intendedUse}};
    j["device"] = result_.device;
    j["precision"] = result_.precision;
    j["fusion"] = result_.fusion;
    j["multilabel"] = result_.multilabel;
    j["classes"] = result_.classes;
    json mods = json::array();
    for (const auto& m : result_.modalities) {
        if (m.missing)
            continue;  // listed under "missing"
        json o = {{"name", m.name}, {"logits", m.logits}, {"probs", m.probs}};
        if (!m.auxLogits.empty()) {
            o["aux_logits"] = m.auxLogits;
            o["aux_probs"] = m.auxProbs;
        }
        if (!m.sliceIndices.empty())
            o["slice_indices"] = m.sliceIndices;
        mods.push_back(o);
    }
    j["modalities"] = mods;
    j["fused"] = {{"logits", result_.fusedLogits}, {"probs", result_.fusedProbs}};
    if (!result_.multilabel) {
        const int top = result_.topClass();
        j["fused"]["top_class"] = top >= 0 && result_.classes.size() == result_.fusedProbs.size() ? result_.classes[top] : "";
    } else {
        json positives = json::array();
        for (int c : result_.positiveClasses())
            positives.push_back(result_.classes[c]);
        j["fused"]["positive_classes"] = positives;
    }
    j["gate"] = result_.gate;
    j["missing"] = result_.missing();
    j["fused"]["probs_uncalibrated"] = result_.fusedProbsUncalibrated;
    const Uncertainty u = describeUncertainty(result_);
    j["uncertainty"] = {{"calibrated", u.calibrated},
                        {"calibration", u.calibrationText},
                        {"temperatures", result_.temperatures},
                        {"gate_entropy", u.gateDefined ? json(u.gateEntropy) : json(nullptr)},
                        {"gate_evenness", u.gateDefined ? json(u.gateEvenness) : json(nullptr)},
                        {"gate", u.gateText}};
    if (const AttributionResult* a = result_.attribution.get())
        j["attribution"] = {{"method", "integrated_gradients"},
                            {"target", a->target},
                            {"steps", a->steps},
                            {"baseline", a->baseline},
                            {"score", "fused probability of the target class (uncalibrated)"},
                            {"score_input", a->scoreInput},
                            {"score_baseline", a->scoreBaseline},
                            {"attribution_sum", a->total},
                            {"completeness_gap", a->gap},
                            {"converged", a->converged()},
                            {"modalities", [&] {
                                 json names = json::array();
                                 for (const auto& [name, map] : a->maps)
                                     names.push_back(name);
                                 return names;
                             }()}};
    j["timings_ms"] = result_.timingsMs;
    json ins = json::array();
    for (const auto& in : inputs_) {
        json o = {{"slot", in.slot}, {"file", QFileInfo(QString::fromStdString(in.sourcePath)).fileName().toStdString()}};
        if (in.image) {
            const Image& im = *in.image;
            o["size"] = {im.slices, im.height, im.width};
            o["channels"] = im.channels;
            o["format"] = im.format;
            o["modality"] = im.tags.modality;
            o["laterality"] = im.tags.laterality;
            if (includePatientIdentifiers) {
                // Dates are identifiers too (HIPAA Safe Harbor): only when asked.
                o["study_date"] = im.tags.studyDate;
                o["path"] = in.sourcePath;
                o["patient"] = {{"name", im.patient.name},
                                {"id", im.patient.id},
                                {"birth_date", im.patient.birthDate},
                                {"sex", im.patient.sex},
                                {"accession_number", im.patient.accessionNumber},
                                {"institution", im.patient.institution}};
            }
        }
        ins.push_back(o);
    }
    j["inputs"] = ins;
    if (!measurements_.empty())
        j["measurements"] = measurements_;
    j["patient_identifiers_included"] = includePatientIdentifiers;
    return j.dump(2) + "\n";
}

void ExportReport::writeJson(const std::string& path, bool includePatientIdentifiers) const
{
    writeFileAtomically(path, toJson(includePatientIdentifiers));
}

void ExportReport::writePng(const std::string& path, const std::string& pngBytes)
{
    if (pngBytes.size() < 8 || pngBytes.compare(1, 3, "PNG") != 0)
        throw BadInputError(path, "the rendered export is not a PNG image");
    writeFileAtomically(path, pngBytes);
}

void ExportReport::addMeasurement(const Measurement& m, const Image& image, const SimilarityMap* map, int mapSlice)
{
    nlohmann::json e;
    e["id"] = m.id;
    e["kind"] = measureKindName(m.kind).toLower().toStdString();
    e["slot"] = m.slot.toStdString();
    e["slice"] = m.slice;
    nlohmann::json pts = nlohmann::json::array();
    for (const QPointF& p : m.points)
        pts.push_back({p.x(), p.y()});
    e["points_px"] = pts;
    bool mm = false;
    switch (m.kind) {
    case MeasureKind::Distance:
        e["length"] = measuredLength(m, image, &mm);
        e["unit"] = mm ? "mm" : "px";
        break;
    case MeasureKind::Angle:
        e["degrees"] = measuredAngle(m, image);
        break;
    default: {
        const RegionStats st = regionStats(m, image, map, mapSlice);
        e["pixels"] = st.pixels;
        e["mean"] = st.mean;
        e["sd"] = st.sd;
        e["min"] = st.min;
        e["max"] = st.max;
        e["area"] = st.area;
        e["unit"] = st.millimetres ? "mm2" : "px2";
        if (st.mapMean) {
            e["map_kind"] = map->kind;
            e["map_mean"] = *st.mapMean;
        }
    }
    }
    e["text"] = describeMeasurement(m, image, map, mapSlice).toStdString();
    measurements_.push_back(e);
}

void ExportReport::writePdf(const std::string& path, const std::string& pdfBytes)
{
    if (pdfBytes.compare(0, 5, "%PDF-") != 0)
        throw BadInputError(path, "the rendered report is not a PDF document");
    writeFileAtomically(path, pdfBytes);
}

}  // namespace ei
