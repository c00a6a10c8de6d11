// EI results as DICOM objects that go back into the patient's record (issue 14): a
// Comprehensive SR (DCMTK dcmsr) with the model, the fused and per-modality
// probabilities, the gate weights and references to the source instances; and the
// similarity maps as Multi-frame True Colour Secondary Captures of the overlay or as
// Parametric Maps of the values (one file per modality and map kind, a frame per slice). Each is a new series in the source
// study (same Study Instance UID, new UIDs from DCMTK's generator); the patient and study
// attributes are copied from the first source only, as DICOM requires.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/report/DicomSources.h"

#include <map>
#include <string>
#include <vector>

namespace ei {

struct DicomResultSeries {
    std::string studyUid, seriesUid;
    std::vector<std::string> files;
};

class DicomResultWriter {
public:
    // `sources`: one per present modality, the first is where patient and study come from.
    DicomResultWriter(const InferenceResult& result, const ModelSummary& model, std::vector<DicomSource> sources);

    // DIR/EI_SR.dcm. Throws BadInputError (an unwritable folder) or ModelError.
    DicomResultSeries writeStructuredReport(const std::string& dir) const;
    // DIR/EI_<modality>_<kind>.dcm for every map of every present modality. `backgrounds`:
    // per modality, the model input's grey picture per slice (MapOverlay.h).
    DicomResultSeries writeMapCaptures(const std::string& dir,
                                       const std::map<std::string, std::vector<std::vector<float>>>& backgrounds) const;

    // DIR/EI_<modality>_<kind>_pmap.dcm: the same maps as Parametric Maps (float values,
    // DicomParametricMap.cpp).
    DicomResultSeries writeParametricMaps(const std::string& dir) const;

private:
    const DicomSource* sourceOf(const std::string& slot) const;

    const InferenceResult& result_;
    const ModelSummary& model_;
    std::vector<DicomSource> sources_;
};

}  // namespace ei
