// See PredictionPanel.h.
#include "ui/panels/PredictionPanel.h"

#include "core/inference/Uncertainty.h"
#include "ui/PlotStyle.h"

#include "ui/QCustomPlotInclude.h"

#include <QCheckBox>
#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace ei {

namespace {
const QColor kFused(0xe8, 0xb0, 0x4a);
// Modality colours: distinct, calm, readable on dark grey.
const QColor kModality[] = {QColor(0x5b, 0x9b, 0xd5), QColor(0x6f, 0xbf, 0x8f), QColor(0xb0, 0x8c, 0xd8),
                            QColor(0xd8, 0x7f, 0x8c), QColor(0x7f, 0xc8, 0xc8), QColor(0xc8, 0xc0, 0x7f)};
QColor modalityColor(int i) { return kModality[i % 6]; }

int argmax(const std::vector<float>& v)
{
    return v.empty() ? -1 : static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}
}  // namespace

PredictionPanel::PredictionPanel(QWidget* parent) : QWidget(parent)
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->setSpacing(6);

    intendedUse_ = new QLabel(this);
    intendedUse_->setObjectName(QStringLiteral("intendedUse"));
    intendedUse_->setWordWrap(true);
    layout->addWidget(intendedUse_);

    topClass_ = new QLabel(tr("No result yet: open a study and press Run (F5)."), this);
    topClass_->setObjectName(QStringLiteral("topClass"));
    topClass_->setWordWrap(true);
    layout->addWidget(topClass_);

    missing_ = new QLabel(this);
    missing_->setObjectName(QStringLiteral("missingNotice"));
    missing_->setWordWrap(true);
    missing_->setStyleSheet(QStringLiteral("QLabel { background: #5a4520; color: #ffe2a8; border-radius: 4px; padding: 4px 6px; }"));
    missing_->hide();
    layout->addWidget(missing_);

    evidence_ = new QLabel(this);
    evidence_->setObjectName(QStringLiteral("evidence"));
    evidence_->setWordWrap(true);
    layout->addWidget(evidence_);

    uncertainty_ = new QLabel(this);
    uncertainty_->setObjectName(QStringLiteral("uncertainty"));
    uncertainty_->setWordWrap(true);
    layout->addWidget(uncertainty_);

    probPlot_ = new QCustomPlot(this);
    probPlot_->setMinimumHeight(160);
    applyDarkPlotStyle(probPlot_);
    // The legend gets a row of its own under the bars: inside the axis rect it covered
    // them (auxiliary heads on, three or more classes).
    auto* legendRow = new QCPLayoutGrid;
    probPlot_->plotLayout()->addElement(1, 0, legendRow);
    legendRow->addElement(0, 0, probPlot_->legend);
    probPlot_->legend->setFillOrder(QCPLegend::foColumnsFirst);
    probPlot_->legend->setWrap(4);
    probPlot_->plotLayout()->setRowStretchFactor(1, 0.001);
    legendRow->setMargins(QMargins(0, 0, 0, 4));
    layout->addWidget(probPlot_, 3);

    aux_ = new QCheckBox(tr("Show auxiliary heads"), this);
    aux_->setToolTip(tr("The auxiliary heads predict from each modality alone, before [INT] mixes them"));
    connect(aux_, &QCheckBox::toggled, this, [this] { rebuild(); });
    layout->addWidget(aux_);

    auto* gateTitle = new QLabel(tr("Gate weights (how much the fusion trusted each modality)"), this);
    gateTitle->setObjectName(QStringLiteral("sectionTitle"));
    layout->addWidget(gateTitle);
    gatePlot_ = new QCustomPlot(this);
    gatePlot_->setMinimumHeight(90);
    applyDarkPlotStyle(gatePlot_);
    layout->addWidget(gatePlot_, 1);
    setModel(ModelSummary{});
}

void PredictionPanel::setModel(const ModelSummary& model)
{
    model_ = model;
    const QString use = QString::fromStdString(model.intendedUse).trimmed();
    if (model.path.empty())
        intendedUse_->setText(tr("No model loaded."));
    else if (use.isEmpty())
        intendedUse_->setText(tr("Intended use: not stated by the model file. Research use only, not for clinical decisions."));
    else
        intendedUse_->setText(tr("Intended use: %1").arg(use));
    result_.reset();
    rebuild();
}

void PredictionPanel::setResult(std::shared_ptr<const InferenceResult> result)
{
    result_ = std::move(result);
    rebuild();
}

void PredictionPanel::clearResult()
{
    result_.reset();
    rebuild();
}

void PredictionPanel::setShowAuxiliary(bool show) { aux_->setChecked(show); }
bool PredictionPanel::showAuxiliary() const { return aux_->isChecked(); }

void PredictionPanel::rebuild()
{
    probPlot_->clearPlottables();
    probPlot_->clearItems();
    gatePlot_->clearPlottables();
    gatePlot_->clearItems();
    const InferenceResult* r = result_.get();
    const std::vector<std::string> absent = r ? r->missing() : std::vector<std::string>{};
    QStringList absentNames;
    for (const auto& name : absent)
        absentNames << QString::fromStdString(name);
    missing_->setVisible(!absent.empty());
    missing_->setText(tr("<b>Computed without %1</b>: no image in %2. The fused prediction uses only the other "
                         "modalities; it may be less accurate than with the full study.")
                          .arg(absentNames.join(tr(" and ")), absent.size() == 1 ? tr("its slot") : tr("their slots")));
    if (!r) {
        topClass_->setText(model_.path.empty() ? tr("Open a model (.eimodel) and a study.")
                                               : tr("No result yet: press Run (F5)."));
        evidence_->clear();
        uncertainty_->clear();
        probPlot_->legend->setVisible(false);
        for (QCustomPlot* plot : {probPlot_, gatePlot_}) {  // calm empty axes, not 0..5 defaults
            plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
            plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
            plot->xAxis->setRange(0, 1);
            plot->yAxis->setRange(0, 1);
            plot->yAxis->setRangeReversed(false);
        }
        // Probabilities and gate weights exist only after a run: no axes until then (a
        // bare 0..1 says nothing).
        for (QCustomPlot* plot : {probPlot_, gatePlot_}) {
            plot->xAxis->setVisible(false);
            plot->yAxis->setVisible(false);
        }
        probPlot_->replot();
        gatePlot_->replot();
        return;
    }
    const int nClasses = static_cast<int>(r->classes.size());
    QVector<double> ticks;
    QVector<QString> labels;
    for (int c = 0; c < nClasses; ++c) {
        ticks << c + 1;
        labels << QString::fromStdString(r->classes[c]);
    }
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    ticker->addTicks(ticks, labels);
    probPlot_->xAxis->setTicker(ticker);
    probPlot_->xAxis->setVisible(true);
    probPlot_->yAxis->setVisible(true);
    probPlot_->xAxis->setTickLabelRotation(nClasses > 5 ? 40 : 0);
    probPlot_->xAxis->setRange(0.4, nClasses + 0.6);
    probPlot_->yAxis->setRange(0, 1.05);
    probPlot_->yAxis->setLabel(r->multilabel ? tr("probability (sigmoid)") : tr("probability"));

    // One group: fused first, then each modality, then (optionally) the auxiliary heads.
    struct Series {
        QString name;
        std::vector<float> values;
        QColor color;
        bool dim;
    };
    std::vector<Series> series{{QStringLiteral("fused"), r->fusedProbs, kFused, false}};
    for (std::size_t m = 0; m < r->modalities.size(); ++m)
        if (!r->modalities[m].missing)
            series.push_back({QString::fromStdString(r->modalities[m].name), r->modalities[m].probs, modalityColor(int(m)), false});
    if (aux_->isChecked())
        for (std::size_t m = 0; m < r->modalities.size(); ++m)
            if (!r->modalities[m].auxProbs.empty())
                series.push_back({QString::fromStdString(r->modalities[m].name) + tr(" (aux)"), r->modalities[m].auxProbs,
                                  modalityColor(int(m)), true});
    aux_->setEnabled(std::any_of(r->modalities.begin(), r->modalities.end(), [](const auto& m) { return !m.auxProbs.empty(); }));

    auto* group = new QCPBarsGroup(probPlot_);
    group->setSpacing(1);
    const double width = 0.8 / series.size();
    for (const auto& s : series) {
        auto* bars = new QCPBars(probPlot_->xAxis, probPlot_->yAxis);
        bars->setName(s.name);
        bars->setWidth(width);
        QColor fill = s.color;
        if (s.dim) {
            fill.setAlpha(110);
            bars->setBrush(QBrush(fill, Qt::Dense3Pattern));
        } else {
            bars->setBrush(fill);
        }
        bars->setPen(QPen(s.color.darker(130)));
        QVector<double> keys, values;
        for (int c = 0; c < nClasses && c < int(s.values.size()); ++c) {
            keys << c + 1;
            values << s.values[c];
        }
        bars->setData(keys, values, true);
        bars->setBarsGroup(group);
    }
    if (r->multilabel) {
        auto* line = new QCPItemStraightLine(probPlot_);
        line->setObjectName(QStringLiteral("threshold"));
        line->point1->setCoords(0, 0.5);
        line->point2->setCoords(1, 0.5);
        line->setPen(QPen(QColor(0xe0, 0x60, 0x60), 1.5, Qt::DashLine));
    }
    probPlot_->legend->setVisible(true);
    probPlot_->replot();

    // Gate chart: one bar per modality the fusion used (a missing one had no say).
    QVector<double> gk, gv;
    QVector<QString> gl;
    QVector<int> gm;
    for (std::size_t m = 0; m < r->gate.size(); ++m) {
        if (m < r->modalities.size() && r->modalities[m].missing)
            continue;
        gk << double(gk.size() + 1);
        gv << r->gate[m];
        gl << (m < r->modalities.size() ? QString::fromStdString(r->modalities[m].name) : QString::number(m));
        gm << int(m);
    }
    for (int i = 0; i < gk.size(); ++i) {
        auto* bars = new QCPBars(gatePlot_->yAxis, gatePlot_->xAxis);  // horizontal bars
        bars->setName(gl[i]);
        bars->setWidth(0.6);
        bars->setBrush(modalityColor(gm[i]));
        bars->setPen(QPen(modalityColor(gm[i]).darker(130)));
        bars->setData(QVector<double>{gk[i]}, QVector<double>{gv[i]}, true);
    }
    auto gateTicker = QSharedPointer<QCPAxisTickerText>::create();
    gateTicker->addTicks(gk, gl);
    gatePlot_->yAxis->setTicker(gateTicker);
    gatePlot_->yAxis->setRange(0.4, gk.size() + 0.6);
    gatePlot_->yAxis->setRangeReversed(true);
    gatePlot_->xAxis->setVisible(true);
    gatePlot_->yAxis->setVisible(true);
    gatePlot_->xAxis->setRange(0, 1.0);
    gatePlot_->replot();

    // In words.
    if (!r->multilabel) {
        const int best = r->topClass();
        topClass_->setText(best < 0 ? tr("No prediction.")
                                    : tr("<b>Most likely: %1</b> &nbsp;(%2 %, fused, %3)")
                                          .arg(QString::fromStdString(r->classes[best]).toHtmlEscaped())
                                          .arg(100.0 * r->fusedProbs[best], 0, 'f', 1)
                                          .arg(r->calibrated() ? tr("calibrated") : tr("uncalibrated")));
    } else {
        QStringList positive;
        for (int c : r->positiveClasses())
            positive << QStringLiteral("%1 (%2)").arg(QString::fromStdString(r->classes[c]).toHtmlEscaped())
                            .arg(r->fusedProbs[c], 0, 'f', 2);
        const QString state = r->calibrated() ? tr("calibrated") : tr("uncalibrated");
        topClass_->setText(positive.isEmpty() ? tr("<b>No class above 0.5</b> (fused, %1)").arg(state)
                                              : tr("<b>Above 0.5: %1</b> (fused, %2)").arg(positive.join(QStringLiteral(", ")), state));
    }
    QStringList lines;
    for (const auto& m : r->modalities) {
        if (m.missing)
            continue;
        const int b = argmax(m.probs);
        if (b >= 0)
            lines << tr("%1 alone: %2 (%3)").arg(QString::fromStdString(m.name), QString::fromStdString(r->classes[b]))
                         .arg(m.probs[b], 0, 'f', 2);
    }
    const int g = argmax(r->gate);
    if (g >= 0 && g < int(r->modalities.size()) && r->gate.size() - absent.size() > 1)
        lines << tr("Gate trusts %1 most (%2)").arg(QString::fromStdString(r->modalities[g].name)).arg(r->gate[g], 0, 'f', 2);
    evidence_->setText(lines.join(QStringLiteral(" \u2022 ")));

    // How far to trust it: calibration and how evenly the gate weighed the modalities.
    const Uncertainty u = describeUncertainty(*r);
    QStringList trust{QString::fromStdString(u.calibrationText)};
    if (!u.gateText.empty())
        trust << (u.gateDefined ? tr("Gate: %1 (evenness %2 of 1)").arg(QString::fromStdString(u.gateText)).arg(u.gateEvenness, 0, 'f', 2)
                                : tr("Gate: %1").arg(QString::fromStdString(u.gateText)));
    uncertainty_->setText(trust.join(QStringLiteral("<br>")));
    uncertainty_->setToolTip(tr("Calibration: temperature scaling fitted on the validation split after fine-tuning, so that "
                                "a probability of 80 % is right about 80 % of the time there.\nGate evenness: the entropy "
                                "of the gate weights over the modalities used, divided by its maximum (0: one modality "
                                "decided alone, 1: all weighed equally)."));
}

QStringList PredictionPanel::seriesNames() const
{
    QStringList names;
    for (int i = 0; i < probPlot_->plottableCount(); ++i)
        names << probPlot_->plottable(i)->name();
    return names;
}

QVector<double> PredictionPanel::seriesValues(const QString& name) const
{
    QVector<double> out;
    for (int i = 0; i < probPlot_->plottableCount(); ++i) {
        auto* bars = qobject_cast<QCPBars*>(probPlot_->plottable(i));
        if (bars && bars->name() == name)
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
                out << it->value;
    }
    return out;
}

bool PredictionPanel::gateAxesShown() const { return gatePlot_->xAxis->visible(); }
bool PredictionPanel::probabilityAxesShown() const { return probPlot_->xAxis->visible(); }

bool PredictionPanel::legendCoversBars() const
{
    return probPlot_->legend->visible() && probPlot_->legend->outerRect().intersects(probPlot_->axisRect()->rect());
}

QVector<double> PredictionPanel::gateValues() const
{
    QVector<double> out;
    for (int i = 0; i < gatePlot_->plottableCount(); ++i)
        if (auto* bars = qobject_cast<QCPBars*>(gatePlot_->plottable(i)))
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
                out << it->value;
    return out;
}

bool PredictionPanel::hasThresholdLine() const
{
    for (int i = 0; i < probPlot_->itemCount(); ++i)
        if (auto* line = qobject_cast<QCPItemStraightLine*>(probPlot_->item(i)))
            if (std::abs(line->point1->coords().y() - 0.5) < 1e-9)
                return true;
    return false;
}

QString PredictionPanel::topClassText() const { return topClass_->text(); }
QString PredictionPanel::intendedUseText() const { return intendedUse_->text(); }
QString PredictionPanel::uncertaintyText() const { return uncertainty_->text(); }
QString PredictionPanel::missingNoticeText() const { return missing_->isVisibleTo(this) ? missing_->text() : QString(); }

}  // namespace ei
