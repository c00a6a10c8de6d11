// Colour maps for the similarity overlays: viridis, inferno, jet and a diverging
// blue-white-red map for delta (cls - cls_noint). Tables of 256 entries computed once.
// viridis / inferno use published degree-6 polynomial fits of matplotlib's tables (within
// about 4/255 per channel of the originals), so no data file has to travel with the binary.
#pragma once

#include <QColor>
#include <QString>
#include <QStringList>

#include <array>

namespace ei {

class ColorMap {
public:
    static QStringList names();  // "viridis", "inferno", "jet", "diverging"
    static const ColorMap& byName(const QString& name);  // unknown names give viridis

    QString name() const { return name_; }
    bool diverging() const { return diverging_; }
    // t in [0, 1] (clamped) -> opaque colour.
    QRgb at(double t) const;
    const std::array<QRgb, 256>& table() const { return table_; }

private:
    ColorMap(const QString& name, bool diverging);
    QString name_;
    bool diverging_ = false;
    std::array<QRgb, 256> table_{};
};

}  // namespace ei
