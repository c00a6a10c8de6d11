// See OverlayPanel.h.
#include "ui/panels/OverlayPanel.h"

#include "ui/viewer/ColorMap.h"
#include "ui/viewer/OverlayRenderer.h"

#include <QCheckBox>
#include <QSignalBlocker>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>

#include <cmath>

namespace ei {

OverlayPanel::OverlayPanel(QWidget* parent) : QWidget(parent)
{
    auto* form = new QFormLayout(this);
    form->setContentsMargins(8, 8, 8, 8);
    form->setLabelAlignment(Qt::AlignRight);

    visible_ = new QCheckBox(tr("Show heat map  (O)"), this);
    visible_->setChecked(true);
    form->addRow(visible_);

    target_ = new QComboBox(this);
    target_->setObjectName(QStringLiteral("targetCombo"));
    form->addRow(tr("Apply to"), target_);
    kind_ = new QComboBox(this);
    kind_->setToolTip(tr("Patch similarity maps (MODEL.md section 4)"));
    form->addRow(tr("Map"), kind_);
    colorMap_ = new QComboBox(this);
    colorMap_->addItems(ColorMap::names());
    colorMap_->setToolTip(tr("\u0394 always uses the diverging map, so that white means no change"));
    form->addRow(tr("Colours"), colorMap_);

    auto slider = [this, form](const QString& label, QSlider*& s, QLabel*& value, int initial) {
        auto* row = new QWidget(this);
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        s = new QSlider(Qt::Horizontal, row);
        s->setRange(0, 100);
        s->setValue(initial);
        value = new QLabel(QStringLiteral("%1 %").arg(initial), row);
        value->setMinimumWidth(40);
        h->addWidget(s, 1);
        h->addWidget(value);
        form->addRow(label, row);
    };
    slider(tr("Opacity"), opacity_, opacityValue_, 45);
    slider(tr("Threshold"), threshold_, thresholdValue_, 0);
    threshold_->setToolTip(tr("Hide cells below this fraction of the colour bar (for \u0394: of its half-range)"));
    grid_ = new QCheckBox(tr("Patch grid"), this);
    form->addRow(grid_);
    linked_ = new QCheckBox(tr("Link zoom / pan across viewports  (L)"), this);
    form->addRow(linked_);
    maskReadout_ = new QLabel(this);
    maskReadout_->setObjectName(QStringLiteral("maskReadout"));
    maskReadout_->setWordWrap(true);
    maskReadout_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    maskReadout_->hide();
    form->addRow(maskReadout_);

    // Pixel attributions: which input pixels drove a class's fused probability.
    auto* title = new QLabel(tr("<b>Pixel attribution</b> (integrated gradients)"), this);
    title->setToolTip(tr("How much each input pixel moved the fused probability of the chosen class, against a "
                         "baseline study (black images, or the images blurred). Red raised it, blue lowered it. "
                         "Computed on demand: it costs about one forward and backward pass per step."));
    form->addRow(title);
    attributionClass_ = new QComboBox(this);
    attributionClass_->setObjectName(QStringLiteral("attributionClass"));
    form->addRow(tr("Class"), attributionClass_);
    attributionSteps_ = new QSpinBox(this);
    attributionSteps_->setObjectName(QStringLiteral("attributionSteps"));
    attributionSteps_->setRange(1, 512);
    attributionSteps_->setValue(64);
    attributionSteps_->setToolTip(tr("Points on the path from the baseline to the study: more steps, a smaller completeness gap"));
    form->addRow(tr("Steps"), attributionSteps_);
    attributionBaseline_ = new QComboBox(this);
    attributionBaseline_->setObjectName(QStringLiteral("attributionBaseline"));
    attributionBaseline_->addItem(tr("black"), QStringLiteral("black"));
    attributionBaseline_->addItem(tr("blurred"), QStringLiteral("blur"));
    form->addRow(tr("Baseline"), attributionBaseline_);
    attributionButton_ = new QPushButton(tr("Compute attribution"), this);
    attributionButton_->setObjectName(QStringLiteral("attributionButton"));
    attributionButton_->setEnabled(false);
    form->addRow(attributionButton_);
    attributionStatus_ = new QLabel(this);
    attributionStatus_->setObjectName(QStringLiteral("attributionStatus"));
    attributionStatus_->setWordWrap(true);
    form->addRow(attributionStatus_);
    connect(attributionButton_, &QPushButton::clicked, this, [this] {
        Q_EMIT attributionRequested(attributionClass_->currentIndex(), attributionSteps_->value(),
                                    attributionBaseline_->currentData().toString());
    });

    connect(visible_, &QCheckBox::toggled, this, [this] { emitChanged(); });
    connect(kind_, &QComboBox::currentIndexChanged, this, [this] { emitChanged(); });
    connect(colorMap_, &QComboBox::currentIndexChanged, this, [this] { emitChanged(); });
    connect(opacity_, &QSlider::valueChanged, this, [this](int v) {
        opacityValue_->setText(QStringLiteral("%1 %").arg(v));
        emitChanged();
    });
    connect(threshold_, &QSlider::valueChanged, this, [this](int v) {
        thresholdValue_->setText(QStringLiteral("%1 %").arg(v));
        emitChanged();
    });
    connect(grid_, &QCheckBox::toggled, this, [this] { emitChanged(); });
    connect(linked_, &QCheckBox::toggled, this, &OverlayPanel::linkedChanged);
    connect(target_, &QComboBox::currentIndexChanged, this, [this] {
        if (!updating_)
            Q_EMIT targetChanged(target());
    });
    setTargets({});
    setMapKinds({QStringLiteral("cls"), QStringLiteral("cls_noint"), QStringLiteral("delta")});
}

void OverlayPanel::setAttributionClasses(const QStringList& classes)
{
    const QString current = attributionClass_->currentText();
    attributionClass_->clear();
    attributionClass_->addItems(classes);
    const int i = attributionClass_->findText(current);
    if (i >= 0)
        attributionClass_->setCurrentIndex(i);
}

void OverlayPanel::setAttributionState(bool canCompute, const QString& status)
{
    attributionButton_->setEnabled(canCompute && attributionClass_->count() > 0);
    attributionStatus_->setText(status);
}

QString OverlayPanel::attributionStatus() const { return attributionStatus_->text(); }

void OverlayPanel::setTargets(const QStringList& slotNames)
{
    updating_ = true;
    target_->clear();
    target_->addItem(tr("All viewports"), QString());
    for (const QString& s : slotNames)
        target_->addItem(s, s);
    updating_ = false;
}

void OverlayPanel::setMapKinds(const QStringList& kinds)
{
    updating_ = true;
    const QString current = kind_->currentData().toString();
    kind_->clear();
    for (const QString& k : kinds)
        kind_->addItem(OverlayRenderer::displayName(k), k);
    const int i = kind_->findData(current);
    kind_->setCurrentIndex(i >= 0 ? i : 0);
    updating_ = false;
}

QString OverlayPanel::target() const { return target_->currentData().toString(); }

QStringList OverlayPanel::mapKinds() const
{
    QStringList kinds;
    for (int i = 0; i < kind_->count(); ++i)
        kinds << kind_->itemData(i).toString();
    return kinds;
}

void OverlayPanel::setSettings(const OverlaySettings& s)
{
    updating_ = true;
    visible_->setChecked(s.visible);
    int i = kind_->findData(s.kind);
    if (i < 0 && !s.kind.isEmpty()) {
        kind_->addItem(OverlayRenderer::displayName(s.kind), s.kind);
        i = kind_->count() - 1;
    }
    kind_->setCurrentIndex(i);
    colorMap_->setCurrentText(s.colorMap);
    opacity_->setValue(int(std::lround(s.opacity * 100)));
    threshold_->setValue(int(std::lround(s.threshold * 100)));
    grid_->setChecked(s.showGrid);
    updating_ = false;
}

OverlaySettings OverlayPanel::settings() const
{
    OverlaySettings s;
    s.visible = visible_->isChecked();
    s.kind = kind_->currentData().toString();
    s.colorMap = colorMap_->currentText();
    s.opacity = opacity_->value() / 100.0;
    s.threshold = threshold_->value() / 100.0;
    s.showGrid = grid_->isChecked();
    return s;
}

void OverlayPanel::setVisibleChecked(bool on) { visible_->setChecked(on); }
bool OverlayPanel::linked() const { return linked_->isChecked(); }

void OverlayPanel::setLinkedChecked(bool on)
{
    const QSignalBlocker block(linked_);
    linked_->setChecked(on);
}

void OverlayPanel::emitChanged()
{
    if (!updating_)
        Q_EMIT settingsChanged(target(), settings());
}

void OverlayPanel::setMaskReadout(const QString& text)
{
    maskReadout_->setText(text.isEmpty() ? QString() : tr("Map vs ground truth:\n%1").arg(text));
    maskReadout_->setVisible(!text.isEmpty());
}

QString OverlayPanel::maskReadout() const { return maskReadout_->isVisible() ? maskReadout_->text() : QString(); }

}  // namespace ei
