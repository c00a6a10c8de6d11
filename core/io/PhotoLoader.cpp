// OpenCV picture loading (see PhotoLoader.h).
#include "core/io/PhotoLoader.h"

#include "core/io/ImageLoader.h"
#include "models/Error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

namespace ei {

namespace {

// libjpeg fills a truncated JPEG with grey and only warns; a complete one ends its
// entropy-coded data with EOI (FF D9) after the last start-of-scan (FF DA).
void checkJpegComplete(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t sos = bytes.rfind("\xff\xda");
    if (sos == std::string::npos || bytes.find("\xff\xd9", sos) == std::string::npos)
        throw BadInputError(path, "JPEG data is truncated (no end-of-image marker after the scan data)");
}

}  // namespace

Image loadPhoto(const std::string& path, const std::string& format)
{
    checkReadableFile(path);
    if (format == "jpeg")
        checkJpegComplete(path);
    cv::Mat mat;
    try {
        mat = cv::imread(path, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
        throw BadInputError(path, std::string("cannot decode the ") + format + " image: " + e.what());
    }
    if (mat.empty())
        throw BadInputError(path, "cannot decode the " + format + " image (corrupt, truncated or too large)");
    if (mat.dims != 2)
        throw BadInputError(path, "is not a 2-D image");
    checkImageSize(path, 1, mat.rows, mat.cols, 3);

    Image image;
    image.sourcePath = path;
    image.format = format;
    image.slices = 1;
    image.height = mat.rows;
    image.width = mat.cols;
    switch (mat.depth()) {
    case CV_8U: image.bitsStored = 8; break;
    case CV_8S: image.bitsStored = 8; image.isSigned = true; break;
    case CV_16U: image.bitsStored = 16; break;
    case CV_16S: image.bitsStored = 16; image.isSigned = true; break;
    case CV_32S: image.bitsStored = 32; image.isSigned = true; break;
    default: image.bitsStored = 32; image.isSigned = true; break;  // float / double
    }
    const int cn = mat.channels();
    cv::Mat rgb;
    if (cn == 1) {
        rgb = mat;
        image.channels = 1;
        image.photometric = "MONOCHROME2";
    } else if (cn == 2) {
        // grey + alpha: keep the grey
        cv::extractChannel(mat, rgb, 0);
        image.channels = 1;
        image.photometric = "MONOCHROME2";
    } else if (cn == 3) {
        cv::cvtColor(mat, rgb, cv::COLOR_BGR2RGB);
        image.channels = 3;
        image.photometric = "RGB";
    } else if (cn == 4) {
        cv::cvtColor(mat, rgb, cv::COLOR_BGRA2RGB);
        image.channels = 3;
        image.photometric = "RGB";
    } else {
        throw BadInputError(path, "has " + std::to_string(cn) + " channels (1, 3 or 4 expected)");
    }
    if (image.channels == 3) {
        // A grey picture stored as colour (PNG / BMP with a grey palette, RGB TIFF of an
        // X-ray) is grey: one channel, so that windowing and the viewer treat it as such.
        std::vector<cv::Mat> planes;
        cv::split(rgb, planes);
        if (cv::countNonZero(planes[0] != planes[1]) == 0 && cv::countNonZero(planes[0] != planes[2]) == 0) {
            rgb = planes[0];
            image.channels = 1;
            image.photometric = "MONOCHROME2";
        }
    }
    cv::Mat asFloat;
    rgb.convertTo(asFloat, CV_MAKETYPE(CV_32F, image.channels));
    image.pixels.resize(static_cast<std::size_t>(image.height) * image.width * image.channels);
    for (int y = 0; y < image.height; ++y) {
        const float* row = asFloat.ptr<float>(y);
        std::copy(row, row + static_cast<std::size_t>(image.width) * image.channels,
                  image.pixels.begin() + static_cast<std::ptrdiff_t>(y) * image.width * image.channels);
    }
    if (image.bitsStored == 8 && !image.isSigned) {
        image.windowCenter = 127.5;
        image.windowWidth = 255.0;
    } else {
        const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
        image.windowCenter = (static_cast<double>(*mn) + *mx) / 2.0;
        image.windowWidth = std::max(1.0, static_cast<double>(*mx) - *mn);
    }
    return image;
}

}  // namespace ei
