// eiview-cli export-dicom: one study through the model, the result written as DICOM for
// the patient's record: a Comprehensive SR and, with --maps sc, the similarity maps as
// secondary captures (core/report/DicomResults). Send them with `eiview-cli store`.
#include "app/cli/CliCommand.h"

#include "core/inference/InferenceRunner.h"
#include "core/io/ImageLoader.h"
#include "core/report/DicomResults.h"
#include "core/report/DicomSources.h"
#include "core/report/MapOverlay.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace ei::cli {

namespace {

const char* kSynopsis =
    "eiview-cli export-dicom --model MODEL --input NAME=FILE... --out DIR [--maps pmap|sc] "
    "[--device auto|cpu|cuda[:k]] [--precision auto|fp32|tf32|bf16|fp16]";

int runExportDicom(CliArgs& args)
{
    args.parse({"model", "input", "out", "maps", "device", "precision"}, {});
    if (args.helpRequested()) {
        std::cout << "usage: " << kSynopsis << "\n"
                  << "  Runs the model on one study whose inputs are DICOM files or series folders and writes the\n"
                     "  result into DIR as new series of the source study: EI_SR.dcm (Comprehensive SR: model,\n"
                     "  SHA-256, intended use, fused and per-modality probabilities, gate weights, references to\n"
                     "  the source instances) and the heat maps: --maps pmap as Parametric Maps of the similarity\n"
                     "  values (EI_<NAME>_<map>_pmap.dcm, float, for quantitative viewers), --maps sc as secondary\n"
                     "  captures of the overlay (EI_<NAME>_<map>.dcm, for any viewer). The patient and study come\n"
                     "  from the first input.\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const std::string out = args.required("out");
    const std::string maps = args.valueOr("maps", "");
    if (!maps.empty() && maps != "sc" && maps != "pmap")
        throw UsageError("--maps must be pmap (parametric maps: the values) or sc (secondary captures: the pictures), not '" +
                         maps + "'");
    std::map<std::string, std::string> inputs;
    for (const auto& v : args.values("input")) {
        auto [name, file] = CliArgs::splitNameValue(v, "--input");
        if (!inputs.emplace(name, file).second)
            throw UsageError("modality " + name + " given twice");
    }
    if (inputs.empty())
        throw UsageError("give at least one --input NAME=FILE");

    InferenceRunner runner(args.required("model"), args.valueOr("device", "auto"), args.valueOr("precision", "auto"));
    const ModelSummary& model = runner.summary();
    for (const auto& [name, file] : inputs) {
        if (std::none_of(model.modalities.begin(), model.modalities.end(), [&](const auto& m) { return m.name == name; }))
            throw UsageError("the model has no modality " + name);
    }
    // Provenance first: an input that is not DICOM is refused before the model runs.
    std::vector<DicomSource> sources;
    std::map<std::string, Image> images;
    for (const auto& m : model.modalities) {
        if (!inputs.count(m.name))
            continue;
        images.emplace(m.name, loadImage(inputs.at(m.name)));
        sources.push_back(readDicomSource(m.name, inputs.at(m.name), images.at(m.name).tags.seriesInstanceUid));
    }
    checkOnePatient(sources);

    const bool withMaps = !maps.empty();
    const InferenceResult result = runner.run(images, withMaps);
    const DicomResultWriter writer(result, model, sources);
    const DicomResultSeries sr = writer.writeStructuredReport(out);
    nlohmann::json summary{{"study_uid", sr.studyUid}, {"sr", {{"series_uid", sr.seriesUid}, {"file", sr.files.front()}}}};
    if (maps == "pmap") {
        const DicomResultSeries pmaps = writer.writeParametricMaps(out);
        summary["maps"] = {{"kind", "parametric_map"}, {"series_uid", pmaps.seriesUid}, {"files", pmaps.files}};
    } else if (maps == "sc") {
        std::map<std::string, std::vector<std::vector<float>>> backgrounds;
        for (const auto& m : model.modalities)
            if (images.count(m.name))
                backgrounds[m.name] = overlayBackgrounds(images.at(m.name), m);
        const DicomResultSeries captures = writer.writeMapCaptures(out, backgrounds);
        summary["maps"] = {{"kind", "secondary_capture"}, {"series_uid", captures.seriesUid}, {"files", captures.files}};
    }
    std::cout << summary.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"export-dicom", kSynopsis, "write a study's EI result as DICOM (SR, heat map captures) for the record",
                runExportDicom});

}  // namespace ei::cli
