// The wizard's first three pages: data set, model, training settings. Each widget writes
// its value into FineTuneSettings as it changes; the pages hold no values of their own.
#include "ui/wizard/WizardPages.h"

#include "core/data/Manifest.h"
#include "core/training/FineTuneSettings.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QWizardPage>

namespace ei {

namespace {

QDoubleSpinBox* doubleSpin(double& field, double lo, double hi, int decimals, const QString& name, const QString& tip)
{
    auto* s = new QDoubleSpinBox;
    s->setDecimals(decimals);
    s->setRange(lo, hi);
    s->setValue(field);
    s->setObjectName(name);
    s->setToolTip(tip);
    QObject::connect(s, &QDoubleSpinBox::valueChanged, s, [&field](double v) { field = v; });
    return s;
}

QSpinBox* intSpin(int& field, int lo, int hi, const QString& name, const QString& tip)
{
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(field);
    s->setObjectName(name);
    s->setToolTip(tip);
    QObject::connect(s, &QSpinBox::valueChanged, s, [&field](int v) { field = v; });
    return s;
}

QComboBox* combo(QString& field, const QStringList& items, const QString& name, const QString& tip)
{
    auto* c = new QComboBox;
    c->setObjectName(name);
    c->addItems(items);
    c->setCurrentText(field);
    c->setToolTip(tip);
    QObject::connect(c, &QComboBox::currentTextChanged, c, [&field](const QString& v) { field = v; });
    return c;
}

QCheckBox* check(bool& field, const QString& text, const QString& tip)
{
    auto* c = new QCheckBox(text);
    c->setChecked(field);
    c->setToolTip(tip);
    QObject::connect(c, &QCheckBox::toggled, c, [&field](bool v) { field = v; });
    return c;
}

// A line edit with a Browse button that picks a file.
QHBoxLayout* fileRow(QLineEdit* edit, QWidget* parent, const QString& caption, const QString& filter)
{
    auto* browse = new QPushButton(QObject::tr("Browse..."));
    auto* row = new QHBoxLayout;
    row->addWidget(edit);
    row->addWidget(browse);
    QObject::connect(browse, &QPushButton::clicked, parent, [edit, parent, caption, filter] {
        const QString f = QFileDialog::getOpenFileName(parent, caption, {}, filter);
        if (!f.isEmpty())
            edit->setText(f);
    });
    return row;
}

class DataSetPage : public QWizardPage {
public:
    explicit DataSetPage(FineTuneSettings* s) : s_(s)
    {
        setTitle(QObject::tr("Data set"));
        setSubTitle(QObject::tr("A CSV manifest: id,split,label,<one column per modality>; paths relative to the CSV."));
        auto* edit = new QLineEdit;
        edit->setObjectName("manifestEdit");
        preview_ = new QTableWidget;
        preview_->setObjectName("previewTable");
        preview_->setEditTriggers(QAbstractItemView::NoEditTriggers);
        problems_ = new QListWidget;
        problems_->setObjectName("problemsList");
        counts_ = new QLabel;
        counts_->setObjectName("classCountsLabel");
        counts_->setWordWrap(true);
        auto* layout = new QVBoxLayout(this);
        layout->addLayout(fileRow(edit, this, QObject::tr("Data set manifest"), "CSV (*.csv)"));
        layout->addWidget(new QLabel(QObject::tr("Preview:")));
        layout->addWidget(preview_, 2);
        layout->addWidget(new QLabel(QObject::tr("Problems (every one must be fixed before training):")));
        layout->addWidget(problems_, 1);
        layout->addWidget(counts_);
        QObject::connect(edit, &QLineEdit::textChanged, s_, &FineTuneSettings::setManifestPath);
        QObject::connect(s_, &FineTuneSettings::manifestChecked, this, [this] { show(); });
    }

    bool isComplete() const override { return s_->manifestReady(); }

private:
    void show()
    {
        problems_->clear();
        preview_->clear();
        preview_->setRowCount(0);
        counts_->setText(s_->isCheckingManifest() ? QObject::tr("Checking the data set (every image is opened)\u2026") : QString());
        problems_->addItems(s_->manifestProblems());
        if (const auto manifest = s_->manifest()) {
            const Manifest& m = *manifest;
            QStringList header{"row", "split", "label"};
            header << s_->modalities();
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
                    preview_->setItem(r, 3 + static_cast<int>(k),
                                      new QTableWidgetItem(QFileInfo(QString::fromStdString(row.files[k])).fileName()));
            }
            QStringList lines;
            for (const auto& [split, counts] : m.classCounts()) {
                QStringList parts;
                for (const auto& [cls, n] : counts)
                    parts << QString("%1 %2").arg(QString::fromStdString(cls)).arg(n);
                lines << QString("%1 (%2 studies): %3").arg(QString::fromStdString(split)).arg(m.splitCounts().at(split)).arg(parts.join(", "));
            }
            counts_->setText(lines.join("\n"));
        }
        Q_EMIT completeChanged();
    }

    FineTuneSettings* s_;
    QTableWidget* preview_;
    QListWidget* problems_;
    QLabel* counts_;
};

class ModelPage : public QWizardPage {
public:
    explicit ModelPage(FineTuneSettings* s) : s_(s)
    {
        setTitle(QObject::tr("Model"));
        setSubTitle(QObject::tr("The frozen backbone and what is trained on top of it."));
        auto* backbone = new QLineEdit;
        backbone->setObjectName("backboneEdit");
        backbone->setToolTip(QObject::tr("A backbone written by eiview-cli import-backbone (DINOv2 or CLIP). Its weights never train."));
        family_ = new QLabel(QObject::tr("no backbone chosen"));
        family_->setObjectName("familyLabel");
        auto* fusion = combo(s->fusion, {"ei", "late", "unimodal"}, "fusionCombo",
                             QObject::tr("ei: early intervention (INT tokens across modalities, the paper's model); "
                                         "late: fusion of per-modality logits by the gate; unimodal: one modality (the first)."));
        auto* ranks = new QLineEdit(s->ranks);
        ranks->setObjectName("ranksEdit");
        ranks->setToolTip(QObject::tr("MoR LoRA ranks; alphas are twice the ranks (the paper's 4, 8, 16)."));
        QObject::connect(ranks, &QLineEdit::textChanged, this, [this](const QString& t) { s_->ranks = t; });
        auto* acquire = intSpin(s->acquireLayer, 0, 64, "acquireSpin", QObject::tr("Block whose CLS feeds the INT tokens (0 = the last, normed)."));
        auto* insert = intSpin(s->insertLayer, 0, 64, "insertSpin", QObject::tr("INT tokens join before block insert + 1 (0 = before the first)."));
        sizes_ = new QWidget;
        new QFormLayout(sizes_);
        auto* form = new QFormLayout(this);
        form->addRow(QObject::tr("Backbone file"), fileRow(backbone, this, QObject::tr("Backbone"), "safetensors (*.safetensors)"));
        form->addRow(QObject::tr("Detected"), family_);
        form->addRow(QObject::tr("Image size per modality"), sizes_);
        form->addRow(QObject::tr("MoR ranks"), ranks);
        form->addRow(QObject::tr("Fusion"), fusion);
        form->addRow(QObject::tr("INT acquire layer"), acquire);
        form->addRow(QObject::tr("INT insert layer"), insert);
        QObject::connect(backbone, &QLineEdit::textChanged, s_, &FineTuneSettings::setBackbonePath);
        QObject::connect(s_, &FineTuneSettings::backboneChanged, this, [this] { showBackbone(); });
    }

    void initializePage() override
    {
        auto* form = static_cast<QFormLayout*>(sizes_->layout());
        while (form->rowCount() > 0)
            form->removeRow(0);
        spins_.clear();
        for (const QString& name : s_->modalities()) {
            auto* spin = new QSpinBox;
            spin->setRange(16, 4096);
            spin->setValue(s_->inputSize(name));
            spin->setObjectName(QString("sizeSpin_%1").arg(name));
            spin->setToolTip(QObject::tr("Square input size; images are resized to it (the paper: 448 for fundus / OCT)."));
            QObject::connect(spin, &QSpinBox::valueChanged, this, [this, name](int v) { s_->setInputSize(name, v); });
            spins_ << spin;
            form->addRow(name, spin);
        }
        showBackbone();
    }

    bool isComplete() const override { return !s_->backboneConfig().isEmpty(); }

private:
    void showBackbone()
    {
        family_->setText(s_->backboneDescription());
        const int patch = s_->backboneConfig()["patch_size"].toInt();
        for (auto* spin : spins_)
            spin->setSingleStep(std::max(1, patch));
        Q_EMIT completeChanged();
    }

    FineTuneSettings* s_;
    QLabel* family_;
    QWidget* sizes_;
    QList<QSpinBox*> spins_;
};

class SettingsPage : public QWizardPage {
public:
    explicit SettingsPage(FineTuneSettings* s)
    {
        setTitle(QObject::tr("Training settings"));
        setSubTitle(QObject::tr("Defaults are the paper's own recipe; hover over a field for what it does."));
        FineTuneRecipe& r = s->recipe;
        auto* form = new QFormLayout(this);
        form->addRow(QObject::tr("Batch size"), intSpin(r.batchSize, 1, 512, "batchSpin", QObject::tr("Studies per SGD step (paper: 8).")));
        form->addRow(QObject::tr("Max epochs per stage"),
                     intSpin(r.maxEpochs, 1, 10000, "epochsSpin", QObject::tr("Most passes over the training split, per stage (paper: 200).")));
        form->addRow(QObject::tr("Early-stop patience"),
                     intSpin(r.patience, 1, 1000, "patienceSpin",
                             QObject::tr("Stop after this many validations without a strictly better val mAP (paper: 10).")));
        form->addRow(QObject::tr("Optimizer"),
                     combo(r.optimizer, {"sgd", "adamw"}, "optimizerCombo",
                           QObject::tr("sgd: momentum SGD with L2 weight decay (the paper's recipe); "
                                       "adamw: Adam with decoupled weight decay, usually with a peak learning "
                                       "rate of 1e-3 and momentum 0.9; it learns faster where a small or "
                                       "from-scratch backbone gives poorly scaled features (the synthetic demo).")));
        form->addRow(QObject::tr("Learning-rate schedule"),
                     combo(r.schedule, {"cyclic", "cosine"}, "scheduleCombo",
                           QObject::tr("cyclic: 1e-5 up to the peak and back, each half 4 epochs, x0.8 per cycle (the official runs); "
                                       "cosine: one warm-up epoch, then cosine over 50 epochs.")));
        form->addRow(QObject::tr("Peak learning rate"),
                     doubleSpin(r.maxLr, 1e-7, 1, 6, "maxLrSpin", QObject::tr("Peak learning rate of the cycle (paper: 1e-3).")));
        form->addRow(QObject::tr("Base learning rate"),
                     doubleSpin(r.baseLr, 1e-8, 1, 7, "baseLrSpin", QObject::tr("Lowest learning rate of the cycle (paper: 1e-5).")));
        form->addRow(QObject::tr("Momentum"),
                     doubleSpin(r.momentum, 0, 0.999, 3, "momentumSpin",
                                QObject::tr("SGD momentum (paper: 0.95); with AdamW its beta1 (usually 0.9).")));
        form->addRow(QObject::tr("Weight decay"),
                     doubleSpin(r.weightDecay, 0, 1, 6, "wdSpin", QObject::tr("Weight decay on every trainable tensor (paper: 1e-4).")));
        form->addRow(QObject::tr("lambda1 (auxiliary)"),
                     doubleSpin(r.lambda1, 0, 10, 3, "lambda1Spin", QObject::tr("Weight of the auxiliary-head losses (paper: 0.3).")));
        form->addRow(QObject::tr("lambda2 (gate)"),
                     doubleSpin(r.lambda2, 0, 10, 3, "lambda2Spin", QObject::tr("Weight of the gate supervision loss (paper: 0.1).")));
        auto* augment = new QHBoxLayout;
        augment->addWidget(check(r.rotation, QObject::tr("rotation"), QObject::tr("Random rotation in [-180, 180) degrees.")));
        augment->addWidget(check(r.edgeCrop, QObject::tr("edge crop"), QObject::tr("With p 0.5, crop up to 10% off each side.")));
        augment->addWidget(check(r.flip, QObject::tr("flip"), QObject::tr("With p 0.5, a horizontal flip.")));
        augment->addWidget(check(r.colorJitter, QObject::tr("colour jitter"), QObject::tr("Contrast, brightness and saturation each x U(0.7, 1.3).")));
        form->addRow(QObject::tr("Augmentation"), augment);
        form->addRow(QObject::tr("Modality dropout"),
                     doubleSpin(r.modalityDropout, 0, 1, 2, "dropoutSpin",
                                QObject::tr("Chance that a fusion-stage batch is trained without one of its modalities "
                                            "(chosen at random), so that the model learns to predict when a study lacks "
                                            "one. 0: never (the paper's recipe); 0.2 to 0.3 is a usual choice.")));
        form->addRow(QObject::tr("Calibrate"),
                     check(r.calibrate, QObject::tr("fit temperature scaling on the validation split"),
                           QObject::tr("After training, scale the fused logits so that the probabilities match how "
                                       "often the model is right on the validation split; stored in the model.")));
        form->addRow(QObject::tr("Seed"), intSpin(r.seed, 0, 1000000, "seedSpin",
                                                  QObject::tr("Seed of initialisation, shuffling and augmentation: same seed, same run.")));
        form->addRow(QObject::tr("Device"), combo(r.device, {"auto", "cpu", "cuda"}, "deviceCombo",
                                                  QObject::tr("auto: the GPU when LibTorch has one, else the CPU.")));
        form->addRow(QObject::tr("Precision"),
                     combo(r.precision, {"auto", "fp32", "tf32", "bf16", "fp16"}, "precisionCombo",
                           QObject::tr("Arithmetic of the backbone passes; weights and optimizer state stay fp32.\n"
                                       "auto: bf16 on a GPU, fp32 on the CPU. fp16 (GPU only) trains with loss scaling.")));
    }
};

}  // namespace

QWizardPage* makeDataSetPage(FineTuneSettings* settings) { return new DataSetPage(settings); }
QWizardPage* makeModelPage(FineTuneSettings* settings) { return new ModelPage(settings); }
QWizardPage* makeSettingsPage(FineTuneSettings* settings) { return new SettingsPage(settings); }

}  // namespace ei
