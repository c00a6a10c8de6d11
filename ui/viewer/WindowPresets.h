// Window / level presets as data (resources/viewer/window-presets.json, compiled into
// the resources): which presets a modality offers and what window each gives an image.
#pragma once

#include "core/io/Image.h"

#include <QString>
#include <QStringList>
#include <QVector>

namespace ei {

class WindowPresets {
public:
    struct Preset {
        QString name;
        QStringList modalities;  // "*" = all
        enum class Kind { File, Absolute, Percentiles } kind = Kind::File;
        double center = 0, width = 1;
        double lowPercent = 0, highPercent = 100;
    };

    // The bundled presets (parsed once); a broken file gives the "From file" preset only.
    static const WindowPresets& bundled();
    static WindowPresets fromJson(const QByteArray& json, QString* error = nullptr);

    QVector<Preset> forModality(const QString& modality) const;
    const QVector<Preset>& all() const { return presets_; }
    // Window (center, width) the preset gives for this image.
    static std::pair<double, double> windowFor(const Preset& preset, const Image& image);

private:
    QVector<Preset> presets_;
};

}  // namespace ei
