// The fine-tuning wizard's pages. Each page reads and writes the shared Private state;
// the run page drives core/training/TrainingJob and plots its JSON-lines events as they arrive.
#include "ui/wizard/FineTuneWizard.h"

#include "core/io/ImageLoader.h"
#include "core/data/Manifest.h"
#include "core/training/TrainingJob.h"
#include "ui/QCustomPlotInclude.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>
#include <QWizardPage>

#include <fstream>
#include <memory>

namespace ei {

struct FineTuneWizard::Private {
    std::unique_ptr<Manifest> manifest;
    TrainingJob* job = nullptr;
    QString modelPath;
    QString summaryJson;
    QString error;
    bool finished = false;

    // Model page.
    QLineEdit* backboneEdit = nullptr;
    QLabel* familyLabel = nullptr;
    QComboBox* fusionCombo = nullptr;
    QLineEdit* ranksEdit = nullptr;
    QSpinBox* acquireSpin = nullptr;
    QSpinBox* insertSpin = nullptr;
    QWidget* sizesBox = nullptr;
    QList<QSpinBox*> sizeSpins;
    QJsonObject backboneConfig;

    // Settings page.
    QSpinBox *batchSpin = nullptr, *epochsSpin = nullptr, *patienceSpin = nullptr, *seedSpin = nullptr;
    QDoubleSpinBox *maxLrSpin = nullptr, *baseLrSpin = nullptr, *momentumSpin = nullptr, *wdSpin = nullptr,
                   *lambda1Spin = nullptr, *lambda2Spin = nullptr;
    QComboBox *optimizerCombo = nullptr, *scheduleCombo = nullptr, *deviceCombo = nullptr;
    QCheckBox *rotationCheck = nullptr, *cropCheck = nullptr, *flipCheck = nullptr, *jitterCheck = nullptr;
};

namespace {

QDoubleSpinBox* doubleSpin(double value, double lo, double hi, int decimals, const QString& name, const QString& tip)
{
    auto* s = new QDoubleSpinBox;
    s->setDecimals(decimals);
    s->setRange(lo, hi);
    s->setValue(value);
    s->setObjectName(name);
    s->setToolTip(tip);
    return s;
}

QSpinBox* intSpin(int value, int lo, int hi, const QString& name, const QString& tip)
{
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(value);
    s->setObjectName(name);
    s->setToolTip(tip);
    return s;
}

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
    return plot;
}

class DataSetPage : public QWizardPage {
public:
    explicit DataSetPage(FineTuneWizard::Private* d) : d_(d)
    {
        setTitle(QObject::tr("Data set"));
        setSubTitle(QObject::tr("A CSV manifest: id,split,label,<one column per modality>; paths relative to the CSV."));
        edit_ = new QLineEdit;
        edit_->setObjectName("manifestEdit");
        auto* browse = new QPushButton(QObject::tr("Browse..."));
        auto* row = new QHBoxLayout;
        row->addWidget(edit_);
        row->addWidget(browse);
        preview_ = new QTableWidget;
        preview_->setObjectName("previewTable");
        preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);
        problems_ = new QListWidget;
        problems_->setObjectName("problemsList");
        counts_ = new QLabel;
        counts_->setObjectName("classCountsLabel");
        counts_->setWordWrap(true);
        auto* layout = new QVBoxLayout(this);
        layout->addLayout(row);
        layout->addWidget(new QLabel(QObject::tr("Preview:")));
        layout->addWidget(preview_, 2);
        layout->addWidget(new QLabel(QObject::tr("Problems (every one must be fixed before training):")));
        layout->addWidget(problems_, 1);
        layout->addWidget(counts_);
        QObject::connect(browse, &QPushButton::clicked, this, [this] {
            const QString f = QFileDialog::getOpenFileName(this, QObject::tr("Data set manifest"), {}, "CSV (*.csv)");
            if (!f.isEmpty())
                edit_->setText(f);
        });
        QObject::connect(edit_, &QLineEdit::textChanged, this, [this] { check(); });
    }

    bool isComplete() const override { return d_->manifest && d_->manifest->problems().empty(); }

private:
    void check()
    {
        d_->manifest.reset();
        problems_->clear();
        preview_->clear();
        preview_->setRowCount(0);
        counts_->clear();
        const QString path = edit_->text();
        if (!QFileInfo(path).isFile()) {
            Q_EMIT completeChanged();
            return;
        }
        try {
            ManifestOptions options;
            // Small data sets: images are opened here so unreadable ones show up now.
            options.checkImage = [](const std::string& file) { loadImage(file); };
            d_->manifest = std::make_unique<Manifest>(Manifest::read(path.toStdString(), options));
        } catch (const std::exception& e) {
            problems_->addItem(QString::fromUtf8(e.what()));
            Q_EMIT completeChanged();
            return;
        }
        const auto& m = *d_->manifest;
        for (const auto& p : m.problems())
            problems_->addItem(QString::fromStdString(p.text()));
        QStringList header{"row", "split", "label"};
        for (const auto& name : m.modalities())
            header << QString::fromStdString(name);
        preview_->setColumnCount(header.size());
        preview_->setHorizontalHeaderLabels(header);
        const int shown = std::min<int>(20, static_cast<int>(m.rows().size()));
        preview_->setRowCount(shown);
        for (int r = 0; r < shown; ++r) {
            const auto& row = m.rows()[r];
            QStringList labels;
            for (const auto& l : row.labels)
                labels << QString::fromStdString(l);
            preview_->setItem(r, 0, new QTableWidgetItem(QString::number(row.row)));
            preview_->setItem(r, 1, new QTableWidgetItem(QString::fromStdString(row.split)));
            preview_->setItem(r, 2, new QTableWidgetItem(labels.join(';')));
            for (std::size_t k = 0; k < row.files.size(); ++k)
                preview_->setItem(r, 3 + static_cast<int>(k), new QTableWidgetItem(QFileInfo(QString::fromStdString(row.files[k])).fileName()));
        }
        QStringList lines;
        for (const auto& [split, counts] : m.classCounts()) {
            QStringList parts;
            for (const auto& [cls, n] : counts)
                parts << QString("%1 %2").arg(QString::fromStdString(cls)).arg(n);
            lines << QString("%1 (%2 studies): %3").arg(QString::fromStdString(split)).arg(m.splitCounts().at(split)).arg(parts.join(", "));
        }
        counts_->setText(lines.join("\n"));
        Q_EMIT completeChanged();
    }

    FineTuneWizard::Private* d_;
    QLineEdit* edit_;
    QTableWidget* preview_;
    QListWidget* problems_;
    QLabel* counts_;
};

class ModelPage : public QWizardPage {
public:
    explicit ModelPage(FineTuneWizard::Private* d) : d_(d)
    {
        setTitle(QObject::tr("Model"));
        setSubTitle(QObject::tr("The frozen backbone and what is trained on top of it."));
        d->backboneEdit = new QLineEdit;
        d->backboneEdit->setObjectName("backboneEdit");
        d->backboneEdit->setToolTip(QObject::tr("A backbone written by eiview-cli import-backbone (DINOv2 or CLIP). Its weights never train."));
        auto* browse = new QPushButton(QObject::tr("Browse..."));
        auto* row = new QHBoxLayout;
        row->addWidget(d->backboneEdit);
        row->addWidget(browse);
        d->familyLabel = new QLabel(QObject::tr("no backbone chosen"));
        d->familyLabel->setObjectName("familyLabel");
        d->fusionCombo = new QComboBox;
        d->fusionCombo->setObjectName("fusionCombo");
        d->fusionCombo->addItems({"ei", "late", "unimodal"});
        d->fusionCombo->setToolTip(QObject::tr("ei: early intervention (INT tokens across modalities, the paper's model); "
                                               "late: fusion of per-modality logits by the gate; unimodal: one modality (the first)."));
        d->ranksEdit = new QLineEdit("2,4,8");
        d->ranksEdit->setObjectName("ranksEdit");
        d->ranksEdit->setToolTip(QObject::tr("MoR LoRA ranks; alphas are twice the ranks (the paper's 4, 8, 16)."));
        d->acquireSpin = intSpin(0, 0, 64, "acquireSpin", QObject::tr("Block whose CLS feeds the INT tokens (0 = the last, normed)."));
        d->insertSpin = intSpin(0, 0, 64, "insertSpin", QObject::tr("INT tokens join before block insert + 1 (0 = before the first)."));
        d->sizesBox = new QWidget;
        new QFormLayout(d->sizesBox);
        auto* form = new QFormLayout(this);
        form->addRow(QObject::tr("Backbone file"), row);
        form->addRow(QObject::tr("Detected"), d->familyLabel);
        form->addRow(QObject::tr("Image size per modality"), d->sizesBox);
        form->addRow(QObject::tr("MoR ranks"), d->ranksEdit);
        form->addRow(QObject::tr("Fusion"), d->fusionCombo);
        form->addRow(QObject::tr("INT acquire layer"), d->acquireSpin);
        form->addRow(QObject::tr("INT insert layer"), d->insertSpin);
        QObject::connect(browse, &QPushButton::clicked, this, [this] {
            const QString f = QFileDialog::getOpenFileName(this, QObject::tr("Backbone"), {}, "safetensors (*.safetensors)");
            if (!f.isEmpty())
                d_->backboneEdit->setText(f);
        });
        QObject::connect(d->backboneEdit, &QLineEdit::textChanged, this, [this] { detect(); });
    }

    void initializePage() override
    {
        auto* form = static_cast<QFormLayout*>(d_->sizesBox->layout());
        while (form->rowCount() > 0)
            form->removeRow(0);
        d_->sizeSpins.clear();
        if (!d_->manifest)
            return;
        for (const auto& name : d_->manifest->modalities()) {
            auto* spin = intSpin(448, 16, 4096, QString("sizeSpin_%1").arg(QString::fromStdString(name)),
                                 QObject::tr("Square input size; images are resized to it (the paper: 448 for fundus / OCT)."));
            d_->sizeSpins << spin;
            form->addRow(QString::fromStdString(name), spin);
        }
        detect();
    }

    bool isComplete() const override { return !d_->backboneConfig.isEmpty(); }

private:
    void detect()
    {
        d_->backboneConfig = {};
        try {
            const auto text = describeBackbone(d_->backboneEdit->text().toStdString());
            d_->backboneConfig = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
            const auto& c = d_->backboneConfig;
            d_->familyLabel->setText(QString("%1, patch %2, width %3, depth %4")
                                         .arg(c["family"].toString())
                                         .arg(c["patch_size"].toInt())
                                         .arg(c["embed_dim"].toInt())
                                         .arg(c["depth"].toInt()));
            const int patch = c["patch_size"].toInt();
            for (auto* spin : d_->sizeSpins)
                spin->setSingleStep(patch);
        } catch (const std::exception& e) {
            d_->familyLabel->setText(d_->backboneEdit->text().isEmpty() ? QObject::tr("no backbone chosen")
                                                                        : QString::fromUtf8(e.what()));
        }
        Q_EMIT completeChanged();
    }

    FineTuneWizard::Private* d_;
};

class SettingsPage : public QWizardPage {
public:
    explicit SettingsPage(FineTuneWizard::Private* d)
    {
        setTitle(QObject::tr("Training settings"));
        setSubTitle(QObject::tr("Defaults are the paper's own recipe; hover over a field for what it does."));
        d->batchSpin = intSpin(8, 1, 512, "batchSpin", QObject::tr("Studies per SGD step (paper: 8)."));
        d->epochsSpin = intSpin(200, 1, 10000, "epochsSpin", QObject::tr("Most passes over the training split, per stage (paper: 200)."));
        d->patienceSpin = intSpin(10, 1, 1000, "patienceSpin",
                                  QObject::tr("Stop after this many validations without a strictly better val mAP (paper: 10)."));
        d->seedSpin = intSpin(0, 0, 1000000, "seedSpin", QObject::tr("Seed of initialisation, shuffling and augmentation: same seed, same run."));
        d->maxLrSpin = doubleSpin(1e-3, 1e-7, 1, 6, "maxLrSpin", QObject::tr("Peak learning rate of the cycle (paper: 1e-3)."));
        d->baseLrSpin = doubleSpin(1e-5, 1e-8, 1, 7, "baseLrSpin", QObject::tr("Lowest learning rate of the cycle (paper: 1e-5)."));
        d->momentumSpin = doubleSpin(0.95, 0, 0.999, 3, "momentumSpin",
                                     QObject::tr("SGD momentum (paper: 0.95); with AdamW its beta1 (usually 0.9)."));
        d->optimizerCombo = new QComboBox;
        d->optimizerCombo->setObjectName("optimizerCombo");
        d->optimizerCombo->addItems({"sgd", "adamw"});
        d->optimizerCombo->setToolTip(QObject::tr("sgd: momentum SGD with L2 weight decay (the paper's recipe); "
                                                  "adamw: Adam with decoupled weight decay, usually with a peak learning "
                                                  "rate of 1e-3 and momentum 0.9; it learns faster where a small or "
                                                  "from-scratch backbone gives poorly scaled features (the synthetic demo)."));
        d->wdSpin = doubleSpin(1e-4, 0, 1, 6, "wdSpin", QObject::tr("Weight decay on every trainable tensor (paper: 1e-4)."));
        d->lambda1Spin = doubleSpin(0.3, 0, 10, 3, "lambda1Spin", QObject::tr("Weight of the auxiliary-head losses (paper: 0.3)."));
        d->lambda2Spin = doubleSpin(0.1, 0, 10, 3, "lambda2Spin", QObject::tr("Weight of the gate supervision loss (paper: 0.1)."));
        d->scheduleCombo = new QComboBox;
        d->scheduleCombo->setObjectName("scheduleCombo");
        d->scheduleCombo->addItems({"cyclic", "cosine"});
        d->scheduleCombo->setToolTip(QObject::tr("cyclic: 1e-5 up to the peak and back, each half 4 epochs, x0.8 per cycle (the official runs); "
                                                 "cosine: one warm-up epoch, then cosine over 50 epochs."));
        d->deviceCombo = new QComboBox;
        d->deviceCombo->setObjectName("deviceCombo");
        d->deviceCombo->addItems({"auto", "cpu", "cuda"});
        d->deviceCombo->setToolTip(QObject::tr("auto: the GPU when LibTorch has one, else the CPU."));
        d->rotationCheck = new QCheckBox(QObject::tr("rotation"));
        d->rotationCheck->setToolTip(QObject::tr("Random rotation in [-180, 180) degrees."));
        d->cropCheck = new QCheckBox(QObject::tr("edge crop"));
        d->cropCheck->setToolTip(QObject::tr("With p 0.5, crop up to 10% off each side."));
        d->flipCheck = new QCheckBox(QObject::tr("flip"));
        d->flipCheck->setToolTip(QObject::tr("With p 0.5, a horizontal flip."));
        d->jitterCheck = new QCheckBox(QObject::tr("colour jitter"));
        d->jitterCheck->setToolTip(QObject::tr("Contrast, brightness and saturation each x U(0.7, 1.3)."));
        for (auto* c : {d->rotationCheck, d->cropCheck, d->flipCheck, d->jitterCheck})
            c->setChecked(true);
        auto* augment = new QHBoxLayout;
        for (auto* c : {d->rotationCheck, d->cropCheck, d->flipCheck, d->jitterCheck})
            augment->addWidget(c);
        auto* form = new QFormLayout(this);
        form->addRow(QObject::tr("Batch size"), d->batchSpin);
        form->addRow(QObject::tr("Max epochs per stage"), d->epochsSpin);
        form->addRow(QObject::tr("Early-stop patience"), d->patienceSpin);
        form->addRow(QObject::tr("Optimizer"), d->optimizerCombo);
        form->addRow(QObject::tr("Learning-rate schedule"), d->scheduleCombo);
        form->addRow(QObject::tr("Peak learning rate"), d->maxLrSpin);
        form->addRow(QObject::tr("Base learning rate"), d->baseLrSpin);
        form->addRow(QObject::tr("Momentum"), d->momentumSpin);
        form->addRow(QObject::tr("Weight decay"), d->wdSpin);
        form->addRow(QObject::tr("lambda1 (auxiliary)"), d->lambda1Spin);
        form->addRow(QObject::tr("lambda2 (gate)"), d->lambda2Spin);
        form->addRow(QObject::tr("Augmentation"), augment);
        form->addRow(QObject::tr("Seed"), d->seedSpin);
        form->addRow(QObject::tr("Device"), d->deviceCombo);
    }
};

class RunPage : public QWizardPage {
public:
    RunPage(FineTuneWizard* wizard, FineTuneWizard::Private* d) : wizard_(wizard), d_(d)
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
        stage_ = new QLabel(QObject::tr("not started"));
        stage_->setObjectName("stageLabel");
        eta_ = new QLabel;
        eta_->setObjectName("etaLabel");
        device_ = new QLabel;
        device_->setObjectName("deviceLabel");
        plot_ = new QCustomPlot;
        plot_->setObjectName("lossPlot");
        plot_->setMinimumHeight(220);
        plot_->addGraph(plot_->xAxis, plot_->yAxis);
        plot_->graph(0)->setName(QObject::tr("training loss"));
        plot_->addGraph(plot_->xAxis, plot_->yAxis2);
        plot_->graph(1)->setName(QObject::tr("validation mAP"));
        plot_->graph(1)->setPen(QPen(Qt::red));
        plot_->graph(1)->setScatterStyle(QCPScatterStyle::ssDisc);
        plot_->xAxis->setLabel(QObject::tr("iteration"));
        plot_->yAxis->setLabel(QObject::tr("loss"));
        plot_->yAxis2->setLabel(QObject::tr("val mAP"));
        plot_->yAxis2->setVisible(true);
        plot_->yAxis2->setRange(0, 1);
        plot_->legend->setVisible(true);
        auto* row = new QHBoxLayout;
        row->addWidget(outEdit_);
        row->addWidget(start_);
        row->addWidget(pause_);
        row->addWidget(cancel_);
        auto* info = new QHBoxLayout;
        info->addWidget(stage_);
        info->addStretch();
        info->addWidget(eta_);
        info->addWidget(device_);
        auto* layout = new QVBoxLayout(this);
        layout->addLayout(row);
        layout->addLayout(info);
        layout->addWidget(plot_);
        QObject::connect(start_, &QPushButton::clicked, this, [this] { startRun(); });
        QObject::connect(pause_, &QPushButton::toggled, this, [this](bool on) {
            d_->job->setPaused(on);
            pause_->setText(on ? QObject::tr("Resume") : QObject::tr("Pause"));
            timer_.invalidate();  // the ETA restarts after a pause
        });
        QObject::connect(cancel_, &QPushButton::clicked, this, [this] { d_->job->cancel(); });
        auto* job = d_->job;
        QObject::connect(job, &TrainingJob::eventReceived, this, [this](const QString& line) { onEvent(line); });
        QObject::connect(job, &TrainingJob::finished, this, [this](const QString& model, const QString& summary) {
            d_->modelPath = model;
            d_->summaryJson = summary;
            d_->finished = true;
            stage_->setText(QObject::tr("finished"));
            eta_->clear();
            setRunning(false);
            Q_EMIT completeChanged();
        });
        QObject::connect(job, &TrainingJob::failed, this, [this](const QString& message) {
            d_->error = message;
            stage_->setText(QObject::tr("failed: %1").arg(message));
            setRunning(false);
        });
        QObject::connect(job, &TrainingJob::cancelled, this, [this] {
            stage_->setText(QObject::tr("cancelled (the last epoch's checkpoint is kept in the run folder)"));
            setRunning(false);
        });
    }

    void initializePage() override
    {
        if (outEdit_->text().isEmpty() && d_->manifest)
            outEdit_->setText(QFileInfo(QString::fromStdString(d_->manifest->path())).absolutePath() + "/runs/run-" +
                              QDateTime::currentDateTimeUtc().toString("yyyyMMdd-HHmmss"));
    }

    bool isComplete() const override { return d_->finished; }

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
        for (int g = 0; g < 2; ++g)
            plot_->graph(g)->data()->clear();
        d_->finished = false;
        d_->error.clear();
        TrainingRequest request;
        request.manifestPath = d_->manifest->path();
        request.configJson = wizard_->trainConfigJson().toStdString();
        request.backbonePath = d_->backboneEdit->text().toStdString();
        request.outDir = outEdit_->text().toStdString();
        setRunning(true);
        stage_->setText(QObject::tr("checking the data set"));
        timer_.start();
        d_->job->start(request);
    }

    void onEvent(const QString& line)
    {
        const auto e = QJsonDocument::fromJson(line.toUtf8()).object();
        const QString kind = e["event"].toString();
        if (kind == "stage_start") {
            stages_ = e["stages"].toInt();
            stageIndex_ = e["stage_index"].toInt();
            device_->setText(QObject::tr("device: %1").arg(e["device"].toString()));
            stage_->setText(QObject::tr("stage %1 of %2: %3").arg(stageIndex_ + 1).arg(stages_).arg(e["stage"].toString()));
        } else if (kind == "step") {
            plot_->graph(0)->addData(++steps_, e["loss"].toDouble());
            const double epochs = std::max(1, d_->epochsSpin->value());
            const double fraction = (stageIndex_ + e["epoch"].toDouble() / epochs) / std::max(1, stages_);
            if (timer_.isValid() && fraction > 0) {
                const double remaining = timer_.elapsed() / 1000.0 * (1 - fraction) / fraction;
                eta_->setText(QObject::tr("at most ~%1 s left (early stopping may end sooner)").arg(qRound(remaining)));
            }
        } else if (kind == "validation") {
            plot_->graph(1)->addData(steps_, e["val_mAP"].toDouble());
        }
        if (kind == "step" || kind == "validation") {
            plot_->graph(0)->rescaleAxes();
            plot_->yAxis2->setRange(0, 1);
            plot_->replot(QCustomPlot::rpQueuedReplot);
        }
    }

    FineTuneWizard* wizard_;
    FineTuneWizard::Private* d_;
    QLineEdit* outEdit_;
    QPushButton *start_, *pause_, *cancel_;
    QLabel *stage_, *eta_, *device_;
    QCustomPlot* plot_;
    QElapsedTimer timer_;
    int steps_ = 0, stages_ = 1, stageIndex_ = 0;
};

class ResultsPage : public QWizardPage {
public:
    ResultsPage(FineTuneWizard* wizard, FineTuneWizard::Private* d) : d_(d)
    {
        setTitle(QObject::tr("Results"));
        table_ = new QTableWidget;
        table_->setObjectName("resultsTable");
        table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
        plot_ = curvePlot("curvePlot", QObject::tr("ROC"), QObject::tr("false positive rate"),
                          QObject::tr("true positive rate"), 1);
        prPlot_ = curvePlot("prPlot", QObject::tr("Precision-recall"), QObject::tr("recall (sensitivity)"),
                            QObject::tr("precision"), 1.02);
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
        layout->addLayout(curves, 2);
        layout->addWidget(saved_);
        layout->addWidget(open);
        QObject::connect(open, &QPushButton::clicked, this, [this, wizard] { Q_EMIT wizard->openModelRequested(d_->modelPath); });
    }

    void initializePage() override
    {
        const auto summary = QJsonDocument::fromJson(d_->summaryJson.toUtf8()).object();
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
        const QList<QColor> colours{Qt::blue, Qt::red, Qt::darkGreen, Qt::magenta, Qt::darkCyan, Qt::darkYellow};
        const auto draw = [&](QCustomPlot* plot, const QJsonArray& perClass) {
            plot->clearPlottables();
            for (int c = 0; c < perClass.size(); ++c) {
                auto* curve = new QCPCurve(plot->xAxis, plot->yAxis);
                curve->setName(classes[c].toString());
                curve->setPen(QPen(colours[c % colours.size()], 1.5));
                QVector<double> x, y;
                for (const auto& p : perClass[c].toArray()) {
                    x.append(p.toArray()[0].toDouble());
                    y.append(p.toArray()[1].toDouble());
                }
                curve->setData(x, y);
            }
            plot->replot();
        };
        draw(plot_, m["curves"].toObject()["roc"].toArray());
        draw(prPlot_, m["curves"].toObject()["pr"].toArray());
        saved_->setText(QObject::tr("Saved: %1").arg(d_->modelPath));
    }

    FineTuneWizard::Private* d_;
    QTableWidget* table_;
    QCustomPlot* plot_;
    QCustomPlot* prPlot_;
    QLabel* saved_;
};

}  // namespace

FineTuneWizard::FineTuneWizard(QWidget* parent) : QWizard(parent), d(new Private)
{
    setWindowTitle(tr("Fine-tune a model"));
    d->job = new TrainingJob(this);
    setPage(DataSetPageId, new DataSetPage(d));
    setPage(ModelPageId, new ModelPage(d));
    setPage(SettingsPageId, new SettingsPage(d));
    setPage(RunPageId, new RunPage(this, d));
    setPage(ResultsPageId, new ResultsPage(this, d));
}

FineTuneWizard::~FineTuneWizard()
{
    d->job->cancel();
    delete d->job;  // waits for the worker before the pages go
    d->job = nullptr;
    delete d;
}

TrainingJob* FineTuneWizard::job() const
{
    return d->job;
}

QString FineTuneWizard::modelPath() const
{
    return d->modelPath;
}

QString FineTuneWizard::trainConfigJson() const
{
    QJsonArray modalities;
    if (d->manifest)
        for (std::size_t k = 0; k < d->manifest->modalities().size(); ++k) {
            const int size = k < static_cast<std::size_t>(d->sizeSpins.size()) ? d->sizeSpins[k]->value() : 448;
            modalities.append(QJsonObject{{"name", QString::fromStdString(d->manifest->modalities()[k])},
                                          {"size", QJsonArray{size, size}}});
        }
    QJsonArray ranks, alphas;
    for (const auto& r : d->ranksEdit->text().split(',', Qt::SkipEmptyParts)) {
        ranks.append(r.trimmed().toInt());
        alphas.append(2 * r.trimmed().toInt());
    }
    QJsonObject model{{"modalities", modalities}, {"fusion", d->fusionCombo->currentText()},
                      {"mor", QJsonObject{{"ranks", ranks}, {"alphas", alphas}}},
                      {"int", QJsonObject{{"insert_layer", d->insertSpin->value()}}}};
    if (d->acquireSpin->value() > 0)
        model["int"] = QJsonObject{{"insert_layer", d->insertSpin->value()}, {"acquire_layer", d->acquireSpin->value()}};
    QJsonObject j{{"model", model},
                  {"seed", d->seedSpin->value()},
                  {"batch_size", d->batchSpin->value()},
                  {"max_epochs", d->epochsSpin->value()},
                  {"patience", d->patienceSpin->value()},
                  {"device", d->deviceCombo->currentText()},
                  {"optimizer", QJsonObject{{"kind", d->optimizerCombo->currentText()}, {"base_lr", d->baseLrSpin->value()}, {"max_lr", d->maxLrSpin->value()},
                                            {"momentum", d->momentumSpin->value()}, {"weight_decay", d->wdSpin->value()}}},
                  {"schedule", QJsonObject{{"kind", d->scheduleCombo->currentText()}}},
                  {"loss", QJsonObject{{"lambda1", d->lambda1Spin->value()}, {"lambda2", d->lambda2Spin->value()}}},
                  {"augment", QJsonObject{{"rotation", d->rotationCheck->isChecked()}, {"edge_crop", d->cropCheck->isChecked()},
                                          {"flip", d->flipCheck->isChecked()}, {"color_jitter", d->jitterCheck->isChecked()}}}};
    return QString::fromUtf8(QJsonDocument(j).toJson(QJsonDocument::Compact));
}

}  // namespace ei
