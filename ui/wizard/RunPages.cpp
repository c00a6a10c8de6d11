// The wizard's last two pages: the run (core/training/TrainingJob with live loss and
// validation-mAP curves, ETA, Pause / Cancel) and the results (per-class metrics, ROC
// and precision-recall curves, where the model was saved).
#include "ui/wizard/WizardPages.h"

#include "core/jobs/Job.h"
#include "core/training/FineTuneSettings.h"
#include "core/training/RemoteRun.h"
#include "core/training/TrainingJob.h"
#include "ui/PlotStyle.h"
#include "ui/QCustomPlotInclude.h"
#include "ui/wizard/FineTuneWizard.h"
#include "ui/wizard/RemoteRunDialog.h"

#include <QDir>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QWizardPage>

namespace ei {

namespace {

// A titled plot of per-class curves over [0, 1] x [0, yMax] (the results page's ROC and
// precision-recall curves).
QCustomPlot* curvePlot(const QString& name, const QString& title, const QString& xLabel, const QString& yLabel,
                       double yMax)
{
    auto* plot = new QCustomPlot;
    plot->setObjectName(name);
    plot->setMinimumHeight(200);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    plot->xAxis->setRange(0, 1);
    plot->yAxis->setRange(0, yMax);
    plot->legend->setVisible(true);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title));
    applyDarkPlotStyle(plot);
    return plot;
}

class RunPage : public QWizardPage {
public:
    RunPage(FineTuneSettings* settings, TrainingJob* job) : s_(settings), job_(job)
    {
        setTitle(QObject::tr("Training"));
        outEdit_ = new QLineEdit;
        outEdit_->setObjectName("outEdit");
        outEdit_->setToolTip(QObject::tr("Run folder: the model, the stage-1 models, metrics, progress and checkpoints."));
        start_ = new QPushButton(QObject::tr("Start"));
        start_->setObjectName("startButton");
        pause_ = new QPushButton(QObject::tr("Pause"));
        pause_->setObjectName("pauseButton");
        pause_->setCheckable(true);
        pause_->setEnabled(false);
        cancel_ = new QPushButton(QObject::tr("Cancel training"));
        cancel_->setObjectName("cancelButton");
        cancel_->setEnabled(false);
        // A run on other machines (issue 17): its commands, and rank 0's progress followed.
        remote_ = new QPushButton(QObject::tr("Several machines..."));
        remote_->setObjectName("remoteButton");
        remote_->setToolTip(QObject::tr("Train on several machines: shows the command for each one and follows rank 0's "
                                        "progress in the run folder."));
        watch_ = new QPushButton(QObject::tr("Watch folder"));
        watch_->setObjectName("watchButton");
        watch_->setCheckable(true);
        watch_->setToolTip(QObject::tr("Follow the progress of a run in the run folder (started elsewhere: another "
                                       "machine's rank 0 on a shared file system, or eiview-cli train)."));
        stage_ = new QLabel(QObject::tr("not started"));
        stage_->setObjectName("stageLabel");
        stage_->setWordWrap(true);
        eta_ = new QLabel;
        eta_->setObjectName("etaLabel");
        device_ = new QLabel;
        device_->setObjectName("deviceLabel");
        plot_ = new QCustomPlot;
        plot_->setObjectName("lossPlot");
        plot_->setMinimumHeight(220);
        plot_->addGraph(plot_->xAxis, plot_->yAxis);
        plot_->graph(0)->setName(QObject::tr("training loss"));
        plot_->graph(0)->setPen(QPen(QColor(0x5b, 0x9b, 0xd5), 1.5));
        plot_->addGraph(plot_->xAxis, plot_->yAxis2);
        plot_->graph(1)->setName(QObject::tr("validation mAP"));
        plot_->graph(1)->setPen(QPen(Qt::red));
        plot_->graph(1)->setScatterStyle(QCPScatterStyle::ssDisc);
        plot_->xAxis->setLabel(QObject::tr("iteration"));
        plot_->yAxis->setLabel(QObject::tr("loss"));
        plot_->yAxis2->setLabel(QObject::tr("val mAP"));
        plot_->yAxis2->setVisible(true);
        plot_->yAxis2->setRange(0, 1);
        // Log scale: stage 2 starts with a loss jump that would flatten the rest.
        plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
        plot_->legend->setVisible(true);
        applyDarkPlotStyle(plot_);
        auto* row = new QHBoxLayout;
        row->addWidget(outEdit_);
        row->addWidget(start_);
        row->addWidget(pause_);
        row->addWidget(cancel_);
        row->addWidget(remote_);
        row->addWidget(watch_);
        auto* info = new QHBoxLayout;
        info->addWidget(stage_, 1);
        info->addWidget(eta_);
        info->addWidget(device_);
        auto* layout = new QVBoxLayout(this);
        layout->addLayout(row);
        layout->addLayout(info);
        layout->addWidget(plot_);
        QObject::connect(start_, &QPushButton::clicked, this, [this] { startRun(); });
        QObject::connect(pause_, &QPushButton::toggled, this, [this](bool on) {
            job_->setPaused(on);
            pause_->setText(on ? QObject::tr("Resume") : QObject::tr("Pause"));
            if (on)
                eta_->setText(QObject::tr("paused"));
            timer_.invalidate();  // the pace is measured afresh after a pause
        });
        QObject::connect(cancel_, &QPushButton::clicked, this, [this] { job_->cancel(); });
        QObject::connect(remote_, &QPushButton::clicked, this, [this] {
            auto* dialog = new RemoteRunDialog(s_->request(outEdit_->text()), this);
            dialog->setAttribute(Qt::WA_DeleteOnClose);
            QObject::connect(dialog, &RemoteRunDialog::watchRequested, this, [this](const QString& dir) {
                outEdit_->setText(dir);
                watch_->setChecked(true);
            });
            dialog->open();
        });
        QObject::connect(watch_, &QPushButton::toggled, this, [this](bool on) {
            if (!on) {
                follower_.stop();
                return;
            }
            clearCurves();
            stage_->setText(QObject::tr("watching %1 (waiting for rank 0's progress)").arg(outEdit_->text()));
            follower_.follow(outEdit_->text());
        });
        QObject::connect(&follower_, &ProgressFollower::eventReceived, this, [this](const QString& line) { onEvent(line); });
        QObject::connect(&follower_, &ProgressFollower::restarted, this, [this] { clearCurves(); });
        QObject::connect(job_, &TrainingJob::eventReceived, this, [this](const QString& line) { onEvent(line); });
        QObject::connect(job_, &TrainingJob::progress, this, [this](quint64, double fraction) { showEta(fraction); });
        QObject::connect(job_, &TrainingJob::finished, this, [this] {
            finished_ = true;
            stage_->setText(QObject::tr("finished"));
            eta_->clear();
            setRunning(false);
            Q_EMIT completeChanged();
        });
        QObject::connect(job_, &TrainingJob::failed, this, [this](quint64, const QString& message) {
            stage_->setText(QObject::tr("failed: %1").arg(message));
            eta_->clear();
            setRunning(false);
        });
        QObject::connect(job_, &TrainingJob::cancelled, this, [this](quint64) {
            stage_->setText(QObject::tr("cancelled (the last epoch's checkpoint is kept in the run folder)"));
            eta_->clear();
            setRunning(false);
        });
    }

    void initializePage() override
    {
        if (outEdit_->text().isEmpty())
            outEdit_->setText(s_->defaultRunFolder());
    }

    bool isComplete() const override { return finished_; }

private:
    void setRunning(bool running)
    {
        start_->setEnabled(!running);
        pause_->setEnabled(running);
        cancel_->setEnabled(running);
        if (!running && pause_->isChecked())
            pause_->setChecked(false);
    }

    void startRun()
    {
        const QStringList problems = s_->validate();
        if (!problems.isEmpty()) {
            stage_->setText(QObject::tr("cannot start: %1").arg(problems.join("; ")));
            return;
        }
        watch_->setChecked(false);  // the local run's own events feed the curves
        clearCurves();
        finished_ = false;
        setRunning(true);
        stage_->setText(QObject::tr("checking the data set"));
        timer_.start();
        etaFrom_ = 0;
        job_->start(s_->request(outEdit_->text()));
    }

    void clearCurves()
    {
        for (int g = 0; g < 2; ++g)
            plot_->graph(g)->data()->clear();
        plot_->clearItems();  // the stage marks of an earlier run
        steps_ = 0;
        plot_->replot(QCustomPlot::rpQueuedReplot);
    }

    void onEvent(const QString& line)
    {
        const auto e = QJsonDocument::fromJson(line.toUtf8()).object();
        const QString kind = e["event"].toString();
        if (kind == "stage_start") {
            const int index = e["stage_index"].toInt();
            QString device = e.contains("precision")
                                 ? QObject::tr("device: %1, %2").arg(e["device"].toString(), e["precision"].toString())
                                 : QObject::tr("device: %1").arg(e["device"].toString());
            if (e["world_size"].toInt(1) > 1)
                device += QObject::tr(", %1 ranks").arg(e["world_size"].toInt());
            device_->setText(device);
            stage_->setText(QObject::tr("stage %1 of %2: %3").arg(index + 1).arg(e["stages"].toInt()).arg(e["stage"].toString()));
            if (index > 0)
                markStage(e["stage"].toString());
        } else if (kind == "step") {
            plot_->graph(0)->addData(++steps_, e["loss"].toDouble());
        } else if (kind == "validation") {
            plot_->graph(1)->addData(steps_, e["val_mAP"].toDouble());
        } else if (kind == "done" && follower_.isFollowing()) {
            follower_.stop();
            stage_->setText(QObject::tr("finished: rank 0 wrote %1").arg(QDir(outEdit_->text()).filePath("model.eimodel")));
        }
        if (kind == "step" || kind == "validation") {
            plot_->graph(0)->rescaleAxes();
            plot_->yAxis2->setRange(0, 1);
            plot_->replot(QCustomPlot::rpQueuedReplot);
        }
    }

    // The time left at the pace since the run (or its last resume) started, from the
    // job's own fraction of the run (TrainingJob reports it per step).
    void showEta(double fraction)
    {
        if (job_->isPaused())
            return;
        if (!timer_.isValid()) {  // resumed: measure the pace afresh
            timer_.start();
            etaFrom_ = fraction;
            return;
        }
        const double done = fraction - etaFrom_;
        if (done <= 0)
            return;
        const double remaining = timer_.elapsed() / 1000.0 * (1 - fraction) / done;
        eta_->setText(QObject::tr("at most ~%1 s left (early stopping may end sooner)").arg(qRound(remaining)));
    }

    // A dashed line where a later stage starts, named at the bottom of the chart.
    void markStage(const QString& name)
    {
        auto* line = new QCPItemStraightLine(plot_);
        line->point1->setCoords(steps_ + 0.5, 0);
        line->point2->setCoords(steps_ + 0.5, 1);
        line->setPen(QPen(QColor(0x80, 0x86, 0x90), 1, Qt::DashLine));
        auto* label = new QCPItemText(plot_);
        label->position->setTypeX(QCPItemPosition::ptPlotCoords);
        label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        label->position->setCoords(steps_ + 0.5, 0.98);  // at the bottom: the legend is at the top
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        label->setText(QStringLiteral(" ") + name);
        label->setColor(QColor(0xb0, 0xb6, 0xc0));
    }

    FineTuneSettings* s_;
    TrainingJob* job_;
    QLineEdit* outEdit_;
    QPushButton *start_, *pause_, *cancel_, *remote_, *watch_;
    ProgressFollower follower_;
    QLabel *stage_, *eta_, *device_;
    QCustomPlot* plot_;
    QElapsedTimer timer_;
    bool finished_ = false;
    double etaFrom_ = 0;  // the fraction done when timer_ started
    int steps_ = 0;
};

class ResultsPage : public QWizardPage {
public:
    explicit ResultsPage(FineTuneWizard* wizard) : wizard_(wizard)
    {
        setTitle(QObject::tr("Results"));
        table_ = new QTableWidget;
        table_->setObjectName("resultsTable");
        table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
        plot_ = curvePlot("curvePlot", QObject::tr("ROC"), QObject::tr("false positive rate"),
                          QObject::tr("true positive rate"), 1);
        prPlot_ = curvePlot("prPlot", QObject::tr("Precision-recall"), QObject::tr("recall (sensitivity)"),
                            QObject::tr("precision"), 1.02);
        reliabilityPlot_ = curvePlot("reliabilityPlot", QObject::tr("Reliability"), QObject::tr("predicted probability"),
                                     QObject::tr("observed frequency"), 1.02);
        calibration_ = new QLabel;
        calibration_->setObjectName("calibrationLabel");
        calibration_->setWordWrap(true);
        saved_ = new QLabel;
        saved_->setObjectName("savedLabel");
        saved_->setTextInteractionFlags(Qt::TextSelectableByMouse);
        auto* open = new QPushButton(QObject::tr("Open this model in the viewer"));
        open->setObjectName("openButton");
        auto* layout = new QVBoxLayout(this);
        layout->addWidget(table_, 1);
        auto* curves = new QHBoxLayout;
        curves->addWidget(plot_);
        curves->addWidget(prPlot_);
        curves->addWidget(reliabilityPlot_);
        layout->addLayout(curves, 2);
        layout->addWidget(calibration_);
        layout->addWidget(saved_);
        layout->addWidget(open);
        QObject::connect(open, &QPushButton::clicked, this, [this] { Q_EMIT wizard_->openModelRequested(wizard_->modelPath()); });
    }

    void initializePage() override
    {
        const auto summary = QJsonDocument::fromJson(wizard_->summaryJson().toUtf8()).object();
        const auto metrics = summary["metrics"].toObject();
        const bool hasTest = metrics["test"].isObject();
        const auto m = (hasTest ? metrics["test"] : metrics["val"]).toObject();
        const auto classes = m["classes"].toArray();
        const auto per = m["per_class"].toObject();
        table_->clear();
        table_->setColumnCount(4);
        table_->setHorizontalHeaderLabels({QObject::tr("class"), "AP", "ROC AUC", "S2"});
        table_->setRowCount(classes.size() + 1);
        auto cell = [](const QJsonValue& v) { return new QTableWidgetItem(v.isDouble() ? QString::number(v.toDouble(), 'f', 3) : QObject::tr("undefined")); };
        for (int c = 0; c < classes.size(); ++c) {
            table_->setItem(c, 0, new QTableWidgetItem(classes[c].toString()));
            table_->setItem(c, 1, cell(per["AP"].toArray()[c]));
            table_->setItem(c, 2, cell(per["AUC"].toArray()[c]));
            table_->setItem(c, 3, cell(per["S2"].toArray()[c]));
        }
        table_->setItem(classes.size(), 0, new QTableWidgetItem(QObject::tr("mean (%1 split)").arg(hasTest ? "test" : "val")));
        table_->setItem(classes.size(), 1, cell(m["mAP"]));
        table_->setItem(classes.size(), 2, cell(m["mAUC"]));
        table_->setItem(classes.size(), 3, cell(m["mS2"]));
        // Curves as QCPCurve: they keep the points' order (a graph would sort by x and
        // scramble the vertical runs of ties).
        // Colours readable on the dark charts.
        const QList<QColor> colours{QColor(0x5b, 0x9b, 0xd5), QColor(0xe8, 0xb0, 0x4a), QColor(0x6f, 0xbf, 0x8f),
                                    QColor(0xd8, 0x7f, 0x8c), QColor(0xb0, 0x8c, 0xd8), QColor(0x7f, 0xc8, 0xc8)};
        const auto draw = [&](QCustomPlot* plot, const QJsonArray& perClass, bool precisionRecall) {
            plot->clearPlottables();
            for (int c = 0; c < perClass.size(); ++c) {
                auto* curve = new QCPCurve(plot->xAxis, plot->yAxis);
                curve->setName(classes[c].toString());
                curve->setPen(QPen(colours[c % colours.size()], 1.5));
                QVector<double> x, y;
                // A precision-recall curve starts at recall 0 with precision 1 (scikit-learn's
                // convention); the thresholds that recall nothing say nothing about precision.
                if (precisionRecall) {
                    x.append(0.0);
                    y.append(1.0);
                }
                for (const auto& p : perClass[c].toArray()) {
                    if (precisionRecall && p.toArray()[0].toDouble() == 0.0)
                        continue;
                    x.append(p.toArray()[0].toDouble());
                    y.append(p.toArray()[1].toDouble());
                }
                curve->setData(x, y);
            }
            plot->replot();
        };
        draw(plot_, m["curves"].toObject()["roc"].toArray(), false);
        draw(prPlot_, m["curves"].toObject()["pr"].toArray(), true);
        drawReliability(m);
        saved_->setText(QObject::tr("Saved: %1").arg(wizard_->modelPath()));
    }

    // Reliability diagram: per bin of predicted probability, how often it came true,
    // before and after the temperature scaling fitted on val; the diagonal is perfect.
    void drawReliability(const QJsonObject& m)
    {
        QCustomPlot* plot = reliabilityPlot_;
        plot->clearPlottables();
        plot->clearItems();
        auto* diagonal = new QCPItemStraightLine(plot);
        diagonal->point1->setCoords(0, 0);
        diagonal->point2->setCoords(1, 1);
        diagonal->setPen(QPen(QColor(0x80, 0x86, 0x90), 1, Qt::DashLine));
        const QJsonObject reliability = m["reliability"].toObject();
        const struct {
            const char* key;
            QString name;
            QColor colour;
        } series[] = {{"uncalibrated", QObject::tr("uncalibrated"), QColor(0xd8, 0x7f, 0x8c)},
                      {"calibrated", QObject::tr("calibrated"), QColor(0x6f, 0xbf, 0x8f)}};
        for (const auto& s : series) {
            if (!reliability[s.key].isArray())
                continue;
            auto* curve = new QCPCurve(plot->xAxis, plot->yAxis);
            curve->setName(s.name);
            curve->setPen(QPen(s.colour, 1.5));
            curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, s.colour, s.colour, 5));
            QVector<double> x, y;
            for (const auto& row : reliability[s.key].toArray()) {
                const QJsonArray b = row.toArray();  // [lower, upper, count, confidence, accuracy]
                if (b[2].toInt() == 0)
                    continue;
                x.append(b[3].toDouble());
                y.append(b[4].toDouble());
            }
            curve->setData(x, y);
        }
        plot->legend->setVisible(plot->plottableCount() > 0);
        plot->replot();

        const auto number = [](const QJsonValue& v) { return v.isDouble() ? QString::number(v.toDouble(), 'f', 3) : QStringLiteral("\u2013"); };
        const QJsonObject ece = m["ece"].toObject(), brier = m["brier"].toObject();
        QString text = ece["calibrated"].isDouble()
                           ? QObject::tr("Calibration (temperature scaling fitted on val): ECE %1 \u2192 %2, Brier %3 \u2192 %4.")
                                 .arg(number(ece["uncalibrated"]), number(ece["calibrated"]), number(brier["uncalibrated"]),
                                      number(brier["calibrated"]))
                           : QObject::tr("Not calibrated: ECE %1, Brier %2.").arg(number(ece["uncalibrated"]), number(brier["uncalibrated"]));
        const QJsonObject without = m["without"].toObject();
        QStringList parts;
        for (auto it = without.begin(); it != without.end(); ++it)
            parts << QObject::tr("without %1: mAP %2").arg(it.key(), number(it.value().toObject()["mAP"]));
        if (!parts.isEmpty())
            text += QStringLiteral(" ") + QObject::tr("A modality missing (mAP %1 with all): %2.").arg(number(m["mAP"]), parts.join(QStringLiteral(", ")));
        calibration_->setText(text);
    }

    FineTuneWizard* wizard_;
    QTableWidget* table_;
    QCustomPlot* plot_;
    QCustomPlot* prPlot_;
    QCustomPlot* reliabilityPlot_;
    QLabel* calibration_;
    QLabel* saved_;
};


}  // namespace

QWizardPage* makeRunPage(FineTuneSettings* settings, TrainingJob* job) { return new RunPage(settings, job); }
QWizardPage* makeResultsPage(FineTuneWizard* wizard) { return new ResultsPage(wizard); }

}  // namespace ei
