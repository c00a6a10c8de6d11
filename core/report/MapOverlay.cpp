// Similarity map -> colour PNG over the model input (OpenCV).
#include "core/report/MapOverlay.h"

#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace ei {

void writeMapOverlayPng(const std::string& path, const SimilarityMap& map, int slice, const std::vector<float>& background)
{
    const int H = map.gridH * map.patch, W = map.gridW * map.patch;
    cv::Mat grid(map.gridH, map.gridW, CV_32F);
    for (int r = 0; r < map.gridH; ++r)
        for (int c = 0; c < map.gridW; ++c)
            grid.at<float>(r, c) = map.at(slice, r, c);
    cv::Mat up;
    cv::resize(grid, up, cv::Size(W, H), 0, 0, cv::INTER_LINEAR);
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
    std::vector<uchar> bytes;
    if (!cv::imencode(".png", colour, bytes))
        throw BadInputError(path, "could not encode the PNG");
    writeFileAtomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace ei
