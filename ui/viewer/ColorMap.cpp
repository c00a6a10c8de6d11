// See ColorMap.h.
#include "ui/viewer/ColorMap.h"

#include <algorithm>
#include <cmath>

namespace ei {

namespace {

struct Poly {
    double c[7][3];
};

// Polynomial fits (degree 6) of matplotlib's viridis and inferno, after Matt Zucker's
// public-domain fits (shadertoy "WlfXRN").
constexpr Poly kViridis{{{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                         {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                         {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                         {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                         {6.228269936347081, 14.17993336680509, 56.69055260068105},
                         {4.776384997670288, -13.74514537774601, -65.35303263337234},
                         {-5.435455855934631, 4.645852612178535, 26.3124352495832}}};
constexpr Poly kInferno{{{0.0002189403691192265, 0.001651004631001012, -0.01948089843709184},
                         {0.1065134194856116, 0.5639564367884091, 3.932712388889277},
                         {11.60249308247187, -3.972853965665698, -15.9423941062914},
                         {-41.70399613139459, 17.43639888205313, 44.35414519872813},
                         {77.162935699427, -33.40235894210092, -81.80730925738993},
                         {-71.31942824499214, 32.62606426397723, 73.20951985803202},
                         {25.13112622477341, -12.24266895238567, -23.07032500287172}}};

int to255(double v) { return std::clamp(static_cast<int>(std::lround(v * 255.0)), 0, 255); }

QRgb evalPoly(const Poly& p, double t)
{
    double rgb[3];
    for (int ch = 0; ch < 3; ++ch) {
        double v = p.c[6][ch];
        for (int k = 5; k >= 0; --k)
            v = p.c[k][ch] + t * v;
        rgb[ch] = v;
    }
    return qRgb(to255(rgb[0]), to255(rgb[1]), to255(rgb[2]));
}

QRgb jet(double t)
{
    auto f = [t](double centre) { return std::clamp(1.5 - std::abs(4.0 * t - centre), 0.0, 1.0); };
    return qRgb(to255(f(3.0)), to255(f(2.0)), to255(f(1.0)));
}

// Moreland's "cool to warm" end points with a light grey centre, linear in RGB on each
// half: 0 is a neutral colour, sign reads as blue (lower) / red (higher).
QRgb divergingColor(double t)
{
    const double lo[3] = {59, 76, 192}, mid[3] = {221, 221, 221}, hi[3] = {180, 4, 38};
    const double* a = t < 0.5 ? lo : mid;
    const double* b = t < 0.5 ? mid : hi;
    const double u = t < 0.5 ? t * 2.0 : (t - 0.5) * 2.0;
    return qRgb(int(std::lround(a[0] + (b[0] - a[0]) * u)), int(std::lround(a[1] + (b[1] - a[1]) * u)),
                int(std::lround(a[2] + (b[2] - a[2]) * u)));
}

}  // namespace

ColorMap::ColorMap(const QString& name, bool isDiverging) : name_(name), diverging_(isDiverging)
{
    for (int i = 0; i < 256; ++i) {
        const double t = i / 255.0;
        if (name == QLatin1String("inferno"))
            table_[i] = evalPoly(kInferno, t);
        else if (name == QLatin1String("jet"))
            table_[i] = jet(t);
        else if (name == QLatin1String("diverging"))
            table_[i] = divergingColor(t);
        else
            table_[i] = evalPoly(kViridis, t);
    }
}

QStringList ColorMap::names()
{
    return {QStringLiteral("viridis"), QStringLiteral("inferno"), QStringLiteral("jet"), QStringLiteral("diverging")};
}

const ColorMap& ColorMap::byName(const QString& name)
{
    static const ColorMap viridis(QStringLiteral("viridis"), false);
    static const ColorMap inferno(QStringLiteral("inferno"), false);
    static const ColorMap jetMap(QStringLiteral("jet"), false);
    static const ColorMap div(QStringLiteral("diverging"), true);
    if (name == QLatin1String("inferno"))
        return inferno;
    if (name == QLatin1String("jet"))
        return jetMap;
    if (name == QLatin1String("diverging"))
        return div;
    return viridis;
}

QRgb ColorMap::at(double t) const
{
    const int i = std::clamp(static_cast<int>(std::lround(t * 255.0)), 0, 255);
    return table_[i];
}

}  // namespace ei
