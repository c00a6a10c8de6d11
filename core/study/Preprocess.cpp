// Model preprocessing (see Preprocess.h).
#include "core/study/Preprocess.h"

#include "models/Error.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ei {

std::vector<int> chooseSliceIndices(int depth, int count)
{
    if (depth < 1 || count < 1)
        throw UsageError("chooseSliceIndices: depth and count must be positive");
    const double step = static_cast<double>(depth - 1) / count;
    std::vector<int> out;
    out.reserve(count);
    for (int k = 0; k < count; ++k) {
        const double centre = step / 2.0 + k * step;
        // Round half to even with the same float64 arithmetic as numpy.round (rint under
        // the default FE_TONEAREST mode).
        const double r = std::nearbyint(centre);
        out.push_back(std::clamp(static_cast<int>(r), 0, depth - 1));
    }
    return out;
}

bool isDisplayReady(const Image& image)
{
    if (image.bitsStored > 8 || image.pixels.empty())
        return false;
    const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    return *mn >= 0.0f && *mx <= 255.0f;
}

namespace {

std::vector<float> toDisplay(const Image& image, int slice, bool ready)
{
    const std::size_t n = image.sliceStride();
    const float* src = image.pixels.data() + static_cast<std::size_t>(slice) * n;
    std::vector<float> out(src, src + n);
    if (!ready) {
        const double width = image.windowWidth > 0 ? image.windowWidth : 1.0;
        const double lo = image.windowCenter - width / 2.0;
        for (float& v : out)
            v = static_cast<float>(std::clamp((v - lo) / width * 255.0, 0.0, 255.0));
    }
    if (image.photometric == "MONOCHROME1")
        for (float& v : out)
            v = 255.0f - v;
    return out;
}

}  // namespace

std::vector<float> sliceTo255(const Image& image, int slice)
{
    if (slice < 0 || slice >= image.slices)
        throw UsageError("sliceTo255: slice index out of range");
    return toDisplay(image, slice, isDisplayReady(image));
}

torch::Tensor preprocessForModel(const Image& image, const ModelInputSpec& spec)
{
    if (image.pixels.empty() || image.slices < 1 || image.height < 1 || image.width < 1)
        throw BadInputError(image.sourcePath, "image is empty");
    if (image.channels != 1 && image.channels != 3)
        throw BadInputError(image.sourcePath, "has " + std::to_string(image.channels) + " channels (1 or 3 expected)");
    if (spec.height < 1 || spec.width < 1 || spec.slices < 1)
        throw UsageError("model input size must be positive");
    if (image.pixels.size() != image.sliceStride() * static_cast<std::size_t>(image.slices))
        throw BadInputError(image.sourcePath, "pixel buffer does not match its size");

    std::vector<int> picks;
    if (spec.volume)
        picks = chooseSliceIndices(image.slices, spec.slices);
    else
        picks = {image.slices > 1 ? chooseSliceIndices(image.slices, 1).front() : 0};

    const bool ready = isDisplayReady(image);
    const int h = spec.height, w = spec.width;
    torch::Tensor out = torch::empty({static_cast<long>(picks.size()), 3, h, w}, torch::kFloat32);
    auto acc = out.accessor<float, 4>();
    for (std::size_t s = 0; s < picks.size(); ++s) {
        std::vector<float> plane = toDisplay(image, picks[s], ready);
        cv::Mat src(image.height, image.width, CV_MAKETYPE(CV_32F, image.channels), plane.data());
        cv::Mat resized;
        if (image.height == h && image.width == w)
            resized = src;
        else
            cv::resize(src, resized, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
        for (int y = 0; y < h; ++y) {
            const float* row = resized.ptr<float>(y);
            for (int x = 0; x < w; ++x)
                for (int c = 0; c < 3; ++c) {
                    const float v = row[x * image.channels + (image.channels == 3 ? c : 0)];
                    const float unit = std::clamp(v, 0.0f, 255.0f) / 255.0f;
                    acc[static_cast<long>(s)][c][y][x] = (unit - spec.mean[c]) / spec.std[c];
                }
        }
    }
    return out;
}

ModelInputSpec modelInputSpec(const ModelConfig& config, int modality)
{
    const ModalityConfig& m = config.modalities.at(static_cast<std::size_t>(modality));
    ModelInputSpec spec;
    spec.height = m.size[0];
    spec.width = m.size[1];
    spec.volume = m.isVolume();
    spec.slices = m.isVolume() ? m.slices : 1;
    spec.mean = config.mean;
    spec.std = config.std;
    return spec;
}

}  // namespace ei
