// How one viewport draws its similarity map (MODEL.md section 4); edited by OverlayPanel.
#pragma once

#include <QString>

namespace ei {

struct OverlaySettings {
    bool visible = true;
    QString kind = QStringLiteral("cls");  // "cls", "cls_noint", "delta", "int_<reference>"
    QString colorMap = QStringLiteral("viridis");  // for delta the diverging map is always used
    double opacity = 0.45;    // 0..1
    double threshold = 0.0;   // 0..1 of the colour bar's range: weaker cells are not drawn
    bool showGrid = false;    // the model's patch grid

    bool operator==(const OverlaySettings& o) const
    {
        return visible == o.visible && kind == o.kind && colorMap == o.colorMap && opacity == o.opacity &&
               threshold == o.threshold && showGrid == o.showGrid;
    }
    bool operator!=(const OverlaySettings& o) const { return !(*this == o); }
};

}  // namespace ei
