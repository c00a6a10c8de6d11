// See WindowPresets.h.
#include "ui/viewer/WindowPresets.h"

#include "ui/window/ViewerResources.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace ei {

WindowPresets WindowPresets::fromJson(const QByteArray& json, QString* error)
{
    WindowPresets out;
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (doc.isNull() || doc.object().value("format").toString() != QLatin1String("eiview-window-presets")) {
        if (error)
            *error = pe.error != QJsonParseError::NoError ? pe.errorString() : QStringLiteral("not an eiview-window-presets file");
        return out;
    }
    for (const auto& v : doc.object().value("presets").toArray()) {
        const QJsonObject o = v.toObject();
        Preset p;
        p.name = o.value("name").toString();
        for (const auto& m : o.value("modalities").toArray())
            p.modalities << m.toString();
        if (o.contains("percentiles")) {
            const QJsonArray a = o.value("percentiles").toArray();
            p.kind = Preset::Kind::Percentiles;
            p.lowPercent = a.at(0).toDouble(0);
            p.highPercent = a.at(1).toDouble(100);
        } else if (o.contains("center")) {
            p.kind = Preset::Kind::Absolute;
            p.center = o.value("center").toDouble();
            p.width = std::max(1e-6, o.value("width").toDouble(1));
        }
        if (!p.name.isEmpty())
            out.presets_.push_back(p);
    }
    return out;
}

const WindowPresets& WindowPresets::bundled()
{
    static const WindowPresets presets = [] {
        ViewerResources::init();
        QFile f(QStringLiteral(":/eiview/viewer/window-presets.json"));
        WindowPresets p;
        if (f.open(QIODevice::ReadOnly))
            p = fromJson(f.readAll());
        if (p.presets_.isEmpty()) {
            Preset file;
            file.name = QStringLiteral("From file");
            file.modalities << QStringLiteral("*");
            p.presets_.push_back(file);
        }
        return p;
    }();
    return presets;
}

QVector<WindowPresets::Preset> WindowPresets::forModality(const QString& modality) const
{
    QVector<Preset> out;
    for (const auto& p : presets_)
        if (p.modalities.contains(QStringLiteral("*")) || p.modalities.contains(modality))
            out.push_back(p);
    return out;
}

std::pair<double, double> WindowPresets::windowFor(const Preset& preset, const Image& image)
{
    switch (preset.kind) {
    case Preset::Kind::Absolute:
        return {preset.center, preset.width};
    case Preset::Kind::Percentiles: {
        if (image.pixels.empty())
            break;
        // A strided sample keeps this instant on large volumes; percentiles barely move.
        const std::size_t stride = std::max<std::size_t>(1, image.pixels.size() / 500000);
        std::vector<float> v;
        v.reserve(image.pixels.size() / stride + 1);
        for (std::size_t i = 0; i < image.pixels.size(); i += stride)
            v.push_back(image.pixels[i]);
        auto at = [&v](double pct) {
            const std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(std::llround(pct / 100.0 * (v.size() - 1))));
            std::nth_element(v.begin(), v.begin() + k, v.end());
            return static_cast<double>(v[k]);
        };
        const double lo = at(preset.lowPercent), hi = at(preset.highPercent);
        return {(lo + hi) / 2.0, std::max(hi - lo, 1e-6)};
    }
    case Preset::Kind::File:
        break;
    }
    return {image.windowCenter, std::max(image.windowWidth, 1e-6)};
}

}  // namespace ei
