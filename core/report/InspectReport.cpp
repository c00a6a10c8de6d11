// The inspect report (see InspectReport.h).
#include "core/report/InspectReport.h"

#include "core/io/ImageLoader.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace fs = std::filesystem;

namespace ei {

InspectReport InspectReport::inspect(const std::string& path, const std::string& seriesUid)
{
    InspectReport report;
    report.series = listSeries(path);
    report.image = loadImage(path, seriesUid);
    return report;
}

nlohmann::json InspectReport::toJson() const
{
    const Image& im = image;
    nlohmann::json j;
    j["kind"] = im.isVolume() ? "volume" : "image";
    j["format"] = im.format;
    j["size"] = {im.slices, im.height, im.width};
    j["channels"] = im.channels;
    j["spacing"] = {im.spacing[0], im.spacing[1], im.spacing[2]};
    j["modality"] = im.tags.modality;
    j["photometric"] = im.photometric;
    j["bits_stored"] = im.bitsStored;
    j["signed"] = im.isSigned;
    j["transfer_syntax"] = im.transferSyntax;
    j["window"] = {im.windowCenter, im.windowWidth};
    j["plane"] = im.canonicalPlane;
    j["laterality"] = im.tags.laterality;
    j["body_part"] = im.tags.bodyPart;
    j["series_description"] = im.tags.seriesDescription;
    const auto volumes = im.tags.other.find("volumes");
    j["volumes"] = volumes == im.tags.other.end() ? 1 : std::stoi(volumes->second);
    if (im.hasGeometry) {
        j["direction"] = im.direction;
        j["origin"] = im.origin;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : series)
        list.push_back({{"uid", s.seriesUid},
                        {"modality", s.modality},
                        {"description", s.description},
                        {"number", s.seriesNumber},
                        {"files", s.files.size()}});
    j["series"] = list;
    return j;
}

void InspectReport::writePixels(const std::string& npyPath) const
{
    std::error_code ec;
    if (fs::exists(npyPath, ec) && fs::exists(image.sourcePath, ec) && fs::equivalent(npyPath, image.sourcePath, ec))
        throw BadInputError(npyPath, "is the inspected input; refusing to overwrite it");
    writeNpy(npyPath, {image.slices, image.height, image.width, image.channels}, image.pixels.data());
}

}  // namespace ei
