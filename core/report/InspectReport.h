// What the loaders made of a file, a series folder or a DICOMDIR: the report behind
// `eiview-cli inspect` (MODEL.md sections 8 and 9.10). No patient identifiers in it.
#pragma once

#include "core/io/DicomDirectory.h"
#include "core/io/Image.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace ei {

struct InspectReport {
    Image image;                          // the loaded image (first series for folders / DICOMDIRs)
    std::vector<DicomSeriesEntry> series;  // the series found (folders and DICOMDIRs)

    // Loads `path` (one series of it when seriesUid is given). Throws ei::BadInputError.
    static InspectReport inspect(const std::string& path, const std::string& seriesUid = {});

    // {"kind", "format", "size": [S,H,W], "channels", "spacing", "modality", "photometric",
    //  "bits_stored", "transfer_syntax", "window": [c, w], "series": [...], plus "signed",
    //  "plane", "laterality", "body_part", "series_description", "volumes"}.
    nlohmann::json toJson() const;

    // Writes the pixels as float32 .npy [S,H,W,C] after the modality transform (RGB for
    // colour), atomically. Refuses to overwrite the inspected input.
    void writePixels(const std::string& npyPath) const;
};

}  // namespace ei
