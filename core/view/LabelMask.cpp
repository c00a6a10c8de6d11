// See LabelMask.h.
#include "core/view/LabelMask.h"

#include "core/io/DicomSeg.h"
#include "core/io/ImageLoader.h"
#include "core/view/MapSampling.h"
#include "core/view/Reformat.h"
#include "models/Error.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace ei {

namespace {

float labelAt(const Image& m, int s, int y, int x)
{
    if (m.channels >= 3) {
        for (int c = 0; c < 3; ++c)
            if (m.at(s, y, x, c) > 0.5f)
                return 1.0f;
        return 0.0f;
    }
    const float v = m.at(s, y, x);
    return std::isfinite(v) ? std::max(0.0f, std::round(v)) : 0.0f;
}

}  // namespace

Image loadLabelMask(const std::string& path, const Image& target, const JobControl* control)
{
    if (target.width <= 0 || target.height <= 0)
        throw BadInputError(path, "there is no image to put the mask on");
    Image mask;
    if (detectImageFormat(path) == "dicom" && isDicomSegFile(path)) {
        mask = loadDicomSegOnto(path, target);
    } else {
        const Image source = loadImage(path, {}, control);
        mask = emptyLabelImageOn(target, path);
        mask.format = source.format;
        const bool byPosition = target.hasGeometry && source.hasGeometry && (target.isVolume() || source.isVolume());
        // Scaling keeps the shape only at the same aspect ratio; another one is another picture.
        const double aspectTarget = double(target.width) / target.height, aspectMask = double(source.width) / source.height;
        if (!byPosition && std::abs(aspectMask / aspectTarget - 1.0) > 0.01)
            throw BadInputError(path, "the mask is " + std::to_string(source.width) + " x " + std::to_string(source.height) +
                                          " pixels, the image " + std::to_string(target.width) + " x " +
                                          std::to_string(target.height) + ": another aspect ratio, so not this image's mask");
        for (int s = 0; s < mask.slices; ++s) {
            if (control)
                control->checkpoint(double(s) / mask.slices, "mask");
            for (int y = 0; y < mask.height; ++y)
                for (int x = 0; x < mask.width; ++x) {
                    int sx, sy, ss;
                    if (byPosition) {  // the source voxel at this voxel's patient position
                        const auto idx = indexOf(source, worldOf(target, QPointF(x + 0.5, y + 0.5), s));
                        sx = static_cast<int>(std::floor(idx[0]));
                        sy = static_cast<int>(std::floor(idx[1]));
                        ss = static_cast<int>(std::lround(idx[2]));
                    } else if (source.slices == mask.slices) {  // the same grid, perhaps scaled
                        sx = static_cast<int>((x + 0.5) * source.width / mask.width);
                        sy = static_cast<int>((y + 0.5) * source.height / mask.height);
                        ss = s;
                    } else {
                        throw BadInputError(path, "has " + std::to_string(source.slices) + " slices and no geometry to match the image's " +
                                                      std::to_string(mask.slices));
                    }
                    if (sx >= 0 && sy >= 0 && ss >= 0 && sx < source.width && sy < source.height && ss < source.slices)
                        mask.pixels[(static_cast<std::size_t>(s) * mask.height + y) * mask.width + x] = labelAt(source, ss, sy, sx);
                }
        }
    }
    if (maskLabels(mask).empty())
        throw BadInputError(path, "no labelled pixel of this mask falls on the image");
    mask.windowCenter = 0.5;
    mask.windowWidth = 1.0;
    return mask;
}

std::vector<int> maskLabels(const Image& mask)
{
    std::set<int> labels;
    for (float v : mask.pixels)
        if (v > 0)
            labels.insert(static_cast<int>(v));
    return {labels.begin(), labels.end()};
}

std::optional<MapMaskAgreement> mapVsMask(const ModalityResult& modality, const SimilarityMap& map, const Image& image,
                                          const Image& mask, double topFraction)
{
    if (mask.width != image.width || mask.height != image.height)
        return std::nullopt;
    std::vector<std::pair<float, bool>> values;  // map value, inside the mask
    int slices = 0;
    for (int k = 0; k < map.slices; ++k) {
        const int s = image.isVolume() ? (k < static_cast<int>(modality.sliceIndices.size()) ? modality.sliceIndices[k] : -1) : 0;
        if (s < 0 || s >= std::max(1, mask.slices))
            continue;
        ++slices;
        const std::vector<float> m = mapOnImage(map, k, image.width, image.height);
        for (int y = 0; y < image.height; ++y)
            for (int x = 0; x < image.width; ++x)
                values.push_back({m[static_cast<std::size_t>(y) * image.width + x], mask.at(s, y, x) > 0});
    }
    const auto inside = std::count_if(values.begin(), values.end(), [](const auto& v) { return v.second; });
    if (values.empty() || inside == 0)
        return std::nullopt;
    MapMaskAgreement a;
    a.slices = slices;
    a.maskShare = double(inside) / values.size();
    double sumIn = 0, sumOut = 0;
    for (const auto& [v, in] : values)
        (in ? sumIn : sumOut) += v;
    a.meanInside = sumIn / inside;
    a.meanOutside = values.size() > std::size_t(inside) ? sumOut / (values.size() - inside) : 0.0;
    // The hottest topFraction of the pixels (at least one).
    const std::size_t top = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(values.size() * topFraction)));
    std::vector<std::pair<float, bool>> sorted = values;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top - 1), sorted.end(),
                     [](const auto& l, const auto& r) { return l.first > r.first; });
    const auto topIn = std::count_if(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(top),
                                     [](const auto& v) { return v.second; });
    a.topShareInMask = double(topIn) / top;
    const auto peak = std::max_element(values.begin(), values.end(), [](const auto& l, const auto& r) { return l.first < r.first; });
    a.peakInMask = peak->second;
    return a;
}

}  // namespace ei
