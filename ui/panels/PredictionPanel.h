// The model's answer and its evidence: grouped bars per class (fused probability, each
// modality's own, optionally the auxiliary heads'), the gate weights as their own
// chart, the top class in words, and the model's intended use, always visible.
// Multi-label models get the 0.5 decision line.
#pragma once

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"

#include <QVector>
#include <QWidget>

#include <memory>

class QCustomPlot;
class QLabel;
class QCheckBox;

namespace ei {

class PredictionPanel : public QWidget {
    Q_OBJECT
public:
    explicit PredictionPanel(QWidget* parent = nullptr);

    void setModel(const ModelSummary& model);
    void setResult(std::shared_ptr<const InferenceResult> result);
    void clearResult();
    void setShowAuxiliary(bool show);
    bool showAuxiliary() const;

    QCustomPlot* probabilityPlot() const { return probPlot_; }
    QCustomPlot* gatePlot() const { return gatePlot_; }
    // Read back from the charts themselves (tests compare them with the engine's numbers).
    QStringList seriesNames() const;
    QVector<double> seriesValues(const QString& name) const;  // "fused", "CFP", "CFP (aux)"
    QVector<double> gateValues() const;
    bool hasThresholdLine() const;
    bool gateAxesShown() const;     // only with a result
    bool probabilityAxesShown() const;  // likewise
    bool legendCoversBars() const;  // the legend overlaps the bars' area
    QString topClassText() const;
    QString intendedUseText() const;
    QString missingNoticeText() const;
    QString uncertaintyText() const;    // calibration state and gate evenness, in words  // "" unless the result ran without a modality

private:
    void rebuild();

    ModelSummary model_;
    std::shared_ptr<const InferenceResult> result_;
    QLabel* intendedUse_ = nullptr;
    QLabel* topClass_ = nullptr;
    QLabel* evidence_ = nullptr;
    QLabel* missing_ = nullptr;
    QLabel* uncertainty_ = nullptr;  // "Computed without OCT": shown while such a result is up
    QCheckBox* aux_ = nullptr;
    QCustomPlot* probPlot_ = nullptr;
    QCustomPlot* gatePlot_ = nullptr;
};

}  // namespace ei
