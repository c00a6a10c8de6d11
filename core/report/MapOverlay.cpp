// Similarity map -> colour PNG over the model input (OpenCV).
#include "core/report/MapOverlay.h"

#include "core/study/Preprocess.h"
#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace ei {

namespace {

cv::Mat upsampled(const SimilarityMap& map, int slice)
{
    const int H = map.gridH * map.patch, W = map.gridW * map.patch;
    cv::Mat grid(map.gridH, map.gridW, CV_32F);
    for (int r = 0; r < map.gridH; ++r)
        for (int c = 0; c < map.gridW; ++c)
            grid.at<float>(r, c) = map.at(slice, r, c);
    cv::Mat up;
    cv::resize(grid, up, cv::Size(W, H), 0, 0, cv::INTER_LINEAR);
    return up;
}

cv::Mat renderBgr(const SimilarityMap& map, int slice, const std::vector<float>& background)
{
    const int H = map.gridH * map.patch, W = map.gridW * map.patch;
    const cv::Mat up = upsampled(map, slice);
    cv::Mat u8;
    up.convertTo(u8, CV_8U, 127.5, 127.5);  // [-1, 1] -> [0, 255]
    cv::Mat colour;
    cv::applyColorMap(u8, colour, cv::COLORMAP_JET);
    const int h = map.inputHeight > 0 ? std::min(map.inputHeight, H) : H;
    const int w = map.inputWidth > 0 ? std::min(map.inputWidth, W) : W;
    colour = colour(cv::Rect(0, 0, w, h)).clone();  // the padding is not part of the picture
    if (background.size() == static_cast<std::size_t>(map.inputHeight) * map.inputWidth && !background.empty()) {
        cv::Mat bg(map.inputHeight, map.inputWidth, CV_32F, const_cast<float*>(background.data()));
        cv::Mat bg8, bgc;
        bg(cv::Rect(0, 0, w, h)).convertTo(bg8, CV_8U, 255.0);
        cv::cvtColor(bg8, bgc, cv::COLOR_GRAY2BGR);
        cv::addWeighted(bgc, 0.5, colour, 0.5, 0.0, colour);
    }
    return colour;
}

}  // namespace

std::vector<float> upsampleMap(const SimilarityMap& map, int slice, int& width, int& height)
{
    const cv::Mat up = upsampled(map, slice);
    height = map.inputHeight > 0 ? std::min(map.inputHeight, up.rows) : up.rows;
    width = map.inputWidth > 0 ? std::min(map.inputWidth, up.cols) : up.cols;
    std::vector<float> values;
    values.reserve(static_cast<std::size_t>(width) * height);
    for (int r = 0; r < height; ++r)
        values.insert(values.end(), up.ptr<float>(r), up.ptr<float>(r) + width);
    return values;
}

RgbPicture renderMapOverlay(const SimilarityMap& map, int slice, const std::vector<float>& background)
{
    cv::Mat rgb;
    cv::cvtColor(renderBgr(map, slice, background), rgb, cv::COLOR_BGR2RGB);
    RgbPicture picture{rgb.cols, rgb.rows, {}};
    picture.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
    return picture;
}

std::vector<std::vector<float>> overlayBackgrounds(const float* data, std::int64_t S, std::int64_t H, std::int64_t W)
{
    std::vector<std::vector<float>> out;
    for (std::int64_t s = 0; s < S; ++s) {
        std::vector<float> g(static_cast<std::size_t>(H * W), 0.0f);
        for (int c = 0; c < 3; ++c)
            for (std::int64_t i = 0; i < H * W; ++i)
                g[static_cast<std::size_t>(i)] += data[(s * 3 + c) * H * W + i] / 3.0f;
        const auto [lo, hi] = std::minmax_element(g.begin(), g.end());
        const float a = *lo, span = *hi - *lo > 1e-12f ? *hi - *lo : 1.0f;
        for (float& v : g)
            v = (v - a) / span;
        out.push_back(std::move(g));
    }
    return out;
}

std::vector<std::vector<float>> overlayBackgrounds(const Image& image, const ModelSummary::Modality& modality)
{
    ModelInputSpec spec;
    spec.height = modality.height;
    spec.width = modality.width;
    spec.volume = modality.kind == "volume";
    spec.slices = modality.slices;
    const torch::Tensor x = preprocessForModel(image, spec).contiguous();
    return overlayBackgrounds(x.data_ptr<float>(), x.size(0), x.size(2), x.size(3));
}

void writeMapOverlayPng(const std::string& path, const SimilarityMap& map, int slice, const std::vector<float>& background)
{
    const cv::Mat colour = renderBgr(map, slice, background);
    std::vector<uchar> bytes;
    if (!cv::imencode(".png", colour, bytes))
        throw BadInputError(path, "could not encode the PNG");
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace ei
