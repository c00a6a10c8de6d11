// Edits OverlaySettings: which map (cls, cls_noint, delta, int_<ref>), for which
// viewport (or all), colour map, opacity, threshold, patch grid, on / off; also the
// linked zoom / pan switch. Twin of ui/viewer/OverlaySettings.h.
#pragma once

#include "ui/viewer/OverlaySettings.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QSlider;
class QLabel;
class QPushButton;
class QSpinBox;

namespace ei {

class OverlayPanel : public QWidget {
    Q_OBJECT
public:
    explicit OverlayPanel(QWidget* parent = nullptr);

    // Slot names for the target list ("All viewports" first) and the map kinds offered.
    void setTargets(const QStringList& slotNames);
    void setMapKinds(const QStringList& kinds);
    QStringList mapKinds() const;  // as offered, in order
    QString target() const;  // "" = all viewports
    void setSettings(const OverlaySettings& settings);  // shows a viewport's settings
    OverlaySettings settings() const;
    void setVisibleChecked(bool on);
    bool linked() const;
    void setLinkedChecked(bool on);  // without emitting linkedChanged
    // The map-vs-mask read-out of the slots with a ground-truth mask ("" hides it).
    void setMaskReadout(const QString& text);
    QString maskReadout() const;
    // Pixel attributions: the classes offered (the model's), whether Compute is possible
    // now, and the last attribution's summary ("" none).
    void setAttributionClasses(const QStringList& classes);
    void setAttributionState(bool canCompute, const QString& status);
    QString attributionStatus() const;

Q_SIGNALS:
    void settingsChanged(const QString& target, const ei::OverlaySettings& settings);
    void targetChanged(const QString& target);
    void linkedChanged(bool linked);
    void attributionRequested(int classIndex, int steps, const QString& baseline);

private:
    void emitChanged();

    QCheckBox* visible_ = nullptr;
    QComboBox* target_ = nullptr;
    QComboBox* kind_ = nullptr;
    QComboBox* colorMap_ = nullptr;
    QSlider* opacity_ = nullptr;
    QSlider* threshold_ = nullptr;
    QLabel* opacityValue_ = nullptr;
    QLabel* thresholdValue_ = nullptr;
    QCheckBox* grid_ = nullptr;
    QCheckBox* linked_ = nullptr;
    QLabel* maskReadout_ = nullptr;
    QComboBox* attributionClass_ = nullptr;
    QSpinBox* attributionSteps_ = nullptr;
    QComboBox* attributionBaseline_ = nullptr;
    QPushButton* attributionButton_ = nullptr;
    QLabel* attributionStatus_ = nullptr;
    bool updating_ = false;
};

}  // namespace ei
