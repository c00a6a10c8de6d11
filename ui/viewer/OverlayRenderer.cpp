// See OverlayRenderer.h.
#include "ui/viewer/OverlayRenderer.h"

#include "core/view/MapSampling.h"

#include <algorithm>
#include <cmath>

namespace ei {

OverlayRenderer::Range OverlayRenderer::valueRange(const SimilarityMap& map)
{
    if (map.values.empty())
        return {};
    const auto [mn, mx] = std::minmax_element(map.values.begin(), map.values.end());
    Range r{*mn, *mx};
    if (isSigned(map)) {
        const float a = std::max({std::abs(r.lo), std::abs(r.hi), 1e-6f});
        return {-a, a};
    }
    if (r.hi - r.lo < 1e-6f)  // a flat map: centre it in a tiny range instead of dividing by 0
        r = {r.lo - 1e-3f, r.hi + 1e-3f};
    return r;
}

double OverlayRenderer::normalised(float value, Range range)
{
    return std::clamp((static_cast<double>(value) - range.lo) / (static_cast<double>(range.hi) - range.lo), 0.0, 1.0);
}

float OverlayRenderer::sampleInput(const SimilarityMap& map, int slice, double u, double v)
{
    return sampleMapInput(map, slice, u, v);
}

float OverlayRenderer::sampleImagePixel(const SimilarityMap& map, int slice, int x, int y, int imageWidth, int imageHeight)
{
    return sampleMapAtImagePixel(map, slice, x, y, imageWidth, imageHeight);
}

QImage OverlayRenderer::render(const SimilarityMap& map, int slice, const ColorMap& colors, Range range, double opacity,
                               double threshold)
{
    const int w = map.inputWidth, h = map.inputHeight;
    if (w <= 0 || h <= 0 || slice < 0 || slice >= map.slices)
        return {};
    QImage out(w, h, QImage::Format_ARGB32_Premultiplied);
    const int alpha = std::clamp(static_cast<int>(std::lround(opacity * 255.0)), 0, 255);
    const bool delta = isSigned(map);
    for (int v = 0; v < h; ++v) {
        auto* line = reinterpret_cast<QRgb*>(out.scanLine(v));
        for (int u = 0; u < w; ++u) {
            const double t = normalised(sampleInput(map, slice, u + 0.5, v + 0.5), range);
            const double strength = delta ? std::abs(t - 0.5) * 2.0 : t;
            if (strength < threshold || alpha == 0) {
                line[u] = 0;
                continue;
            }
            const QRgb c = colors.at(t);
            line[u] = qRgba(qRed(c) * alpha / 255, qGreen(c) * alpha / 255, qBlue(c) * alpha / 255, alpha);
        }
    }
    return out;
}

QString OverlayRenderer::displayName(const QString& kind)
{
    if (kind == QLatin1String("cls"))
        return QStringLiteral("[CLS] with [INT]");
    if (kind == QLatin1String("cls_noint"))
        return QStringLiteral("[CLS] without [INT]");
    if (kind == QLatin1String("delta"))
        return QStringLiteral("\u0394 = with \u2212 without [INT]");
    if (kind == QLatin1String("ig"))
        return QStringLiteral("Pixel attribution (integrated gradients)");
    if (kind.startsWith(QLatin1String("int_")))
        return QStringLiteral("[INT] from %1").arg(kind.mid(4));
    return kind;
}

}  // namespace ei
