// The official augmentation chain (see Augment.h), with LibTorch ops so it runs on the
// training device next to the model.
#include "models/train/Augment.h"

#include <cfenv>
#include <cmath>

namespace ei {

double uniform01(std::mt19937& rng)
{
    return rng() / 4294967296.0;
}

AugmentParams drawAugmentParams(std::mt19937& rng, const AugmentConfig& config, int height, int width)
{
    AugmentParams p;
    const int angle = static_cast<int>(rng() % 360) - 180;
    const bool crop = uniform01(rng) < 0.5;
    const int maxW = width / 10, maxH = height / 10;
    const int l = static_cast<int>(rng() % (maxW + 1)), r = static_cast<int>(rng() % (maxW + 1));
    const int t = static_cast<int>(rng() % (maxH + 1)), b = static_cast<int>(rng() % (maxH + 1));
    const bool flip = uniform01(rng) < 0.5;
    const double contrast = 0.7 + 0.6 * uniform01(rng);
    const double brightness = 0.7 + 0.6 * uniform01(rng);
    const double saturation = 0.7 + 0.6 * uniform01(rng);
    double jitter[8];
    for (double& j : jitter)
        j = uniform01(rng) - 0.5;
    if (config.rotation)
        p.angle = angle;
    if (config.edgeCrop && crop) {
        p.cropLeft = l;
        p.cropRight = r;
        p.cropTop = t;
        p.cropBottom = b;
    }
    p.flip = config.flip && flip;
    if (config.colorJitter) {
        p.contrast = contrast;
        p.brightness = brightness;
        p.saturation = saturation;
    }
    if (config.sliceJitter)
        for (int k = 0; k < 8; ++k)
            p.sliceJitter[k] = jitter[k];
    return p;
}

namespace {

torch::Tensor toRgb(const torch::Tensor& image)
{
    return image.size(0) == 1 ? image.expand({3, image.size(1), image.size(2)}) : image;
}

torch::Tensor resize(const torch::Tensor& image, int outH, int outW)
{
    if (image.size(1) == outH && image.size(2) == outW)
        return image;
    namespace F = torch::nn::functional;
    return F::interpolate(image.unsqueeze(0), F::InterpolateFuncOptions()
                                                  .size(std::vector<int64_t>{outH, outW})
                                                  .mode(torch::kBilinear)
                                                  .align_corners(false))
        .squeeze(0);
}

torch::Tensor luma(const torch::Tensor& rgb)
{
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

}  // namespace

torch::Tensor augmentImage(const torch::Tensor& image, const AugmentParams& p, int outH, int outW)
{
    torch::Tensor x = image;
    const auto h = x.size(1), w = x.size(2);
    if (p.angle != 0) {
        namespace F = torch::nn::functional;
        const double a = p.angle * 3.141592653589793 / 180.0;
        const double c = std::cos(a), s = std::sin(a);
        const double hw = static_cast<double>(h) / w, wh = static_cast<double>(w) / h;
        const auto theta = torch::tensor({c, -s * hw, 0.0, s * wh, c, 0.0}, x.options()).view({1, 2, 3});
        const auto grid = F::affine_grid(theta, {1, x.size(0), h, w}, false);
        x = F::grid_sample(x.unsqueeze(0), grid,
                           F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false))
                .squeeze(0);
    }
    if (p.cropLeft + p.cropRight + p.cropTop + p.cropBottom > 0)
        x = x.slice(1, p.cropTop, h - p.cropBottom).slice(2, p.cropLeft, w - p.cropRight);
    if (p.flip)
        x = x.flip({2});
    x = toRgb(resize(x, outH, outW));
    if (p.contrast != 1)
        x = p.contrast * x + (1 - p.contrast) * luma(x).mean();
    if (p.brightness != 1)
        x = p.brightness * x;
    if (p.saturation != 1)
        x = p.saturation * x + (1 - p.saturation) * luma(x).unsqueeze(0);
    return x.clamp(0, 1).contiguous();
}

torch::Tensor resizeForModel(const torch::Tensor& image, int outH, int outW)
{
    return toRgb(resize(image, outH, outW)).contiguous();
}

torch::Tensor normalizeImage(const torch::Tensor& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std)
{
    auto shape = std::vector<int64_t>(rgb.dim(), 1);
    shape[rgb.dim() - 3] = 3;
    const auto m = torch::tensor({mean[0], mean[1], mean[2]}, rgb.options()).view(shape);
    const auto s = torch::tensor({std[0], std[1], std[2]}, rgb.options()).view(shape);
    return (rgb - m) / s;
}

std::vector<int> officialSliceIndices(int depth, int slices, const double* jitter)
{
    std::vector<int> out;
    const double step = (depth - 1.0) / slices;
    for (int k = 0; k < slices; ++k) {
        double centre = step / 2 + k * step;
        if (jitter && k < 8)
            centre += jitter[k] * step;
        int index = static_cast<int>(std::nearbyint(centre));  // default rounding: half to even, as np.round
        out.push_back(std::min(std::max(index, 0), depth - 1));
    }
    return out;
}

}  // namespace ei
