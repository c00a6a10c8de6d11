// See MapSampling.h.
#include "core/view/MapSampling.h"

#include <algorithm>
#include <cmath>

namespace ei {

float sampleMapInput(const SimilarityMap& map, int slice, double u, double v)
{
    if (map.gridH <= 0 || map.gridW <= 0)
        return 0.0f;
    const double gx = std::clamp(u / map.patch - 0.5, 0.0, double(map.gridW - 1));
    const double gy = std::clamp(v / map.patch - 0.5, 0.0, double(map.gridH - 1));
    const int x0 = static_cast<int>(std::floor(gx)), y0 = static_cast<int>(std::floor(gy));
    const int x1 = std::min(x0 + 1, map.gridW - 1), y1 = std::min(y0 + 1, map.gridH - 1);
    const double fx = gx - x0, fy = gy - y0;
    const double top = map.at(slice, y0, x0) * (1 - fx) + map.at(slice, y0, x1) * fx;
    const double bottom = map.at(slice, y1, x0) * (1 - fx) + map.at(slice, y1, x1) * fx;
    return static_cast<float>(top * (1 - fy) + bottom * fy);
}

float sampleMapAtImagePixel(const SimilarityMap& map, int slice, int x, int y, int imageWidth, int imageHeight)
{
    const double u = (x + 0.5) * map.inputWidth / imageWidth;
    const double v = (y + 0.5) * map.inputHeight / imageHeight;
    return sampleMapInput(map, slice, u, v);
}

std::vector<float> mapOnImage(const SimilarityMap& map, int slice, int imageWidth, int imageHeight)
{
    std::vector<float> out(static_cast<std::size_t>(imageWidth) * imageHeight);
    for (int y = 0; y < imageHeight; ++y)
        for (int x = 0; x < imageWidth; ++x)
            out[static_cast<std::size_t>(y) * imageWidth + x] = sampleMapAtImagePixel(map, slice, x, y, imageWidth, imageHeight);
    return out;
}

const SimilarityMap* findMap(const InferenceResult& result, const QString& slot, const std::map<QString, QString>& kinds,
                             const Image& image, int imageSlice, int* mapSlice)
{
    *mapSlice = -1;
    const auto k = kinds.find(slot);
    const std::string kind = k == kinds.end() ? std::string("cls") : k->second.toStdString();
    const ModalityResult* modality = result.modality(slot.toStdString());
    if (kind.empty() || !modality)
        return nullptr;
    for (const SimilarityMap& m : modality->maps) {
        if (m.kind != kind)
            continue;
        if (!image.isVolume()) {
            *mapSlice = 0;
            return &m;
        }
        const auto& idx = modality->sliceIndices;
        for (std::size_t i = 0; i < idx.size() && static_cast<int>(i) < m.slices; ++i)
            if (idx[i] == imageSlice) {
                *mapSlice = static_cast<int>(i);
                return &m;
            }
        return nullptr;
    }
    return nullptr;
}

}  // namespace ei
