// Tiny fixtures shared by several test areas: a CFP + OCT study with a random EI model
// made by `eiview-cli init` (the session and window tests), a fine-tuning data set with a
// random backbone file (the wizard and its settings), small files, and waiting for a
// session's or window's asynchronous open.
#pragma once

#include "core/data/SyntheticData.h"
#include "models/ei/ModelConfig.h"
#include "models/io/Safetensors.h"
#include "models/vit/VisionTransformer.h"
#include "tests/TestRegistry.h"

#include <QColor>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QSignalSpy>

#include <nlohmann/json.hpp>

namespace ei::test {

struct TinyStudy {
    QString model;  // tiny.eimodel: slots CFP (60 x 60) and OCT (64 x 48)
    QString cfp;    // CFP_patient.png, 90 x 80 RGB
    QString oct;    // OCT_patient.png, 70 x 50 grey
};

// Runs eiview-cli; "" on success, else what it printed on stderr.
inline QString runCli(const QStringList& args)
{
    QProcess p;
    p.start(cliPath(), args);
    if (!p.waitForFinished(300000))
        return QStringLiteral("timed out");
    if (p.exitCode() != 0)
        return QString::fromLocal8Bit(p.readAllStandardError());
    return {};
}

// Writes the study into `dir`; "" on success, else the problem.
inline QString makeTinyStudy(const QString& dir, TinyStudy& out)
{
    const QString config = QDir(dir).filePath("config.json");
    QFile f(config);
    if (!f.open(QIODevice::WriteOnly))
        return "cannot write " + config;
    f.write(R"({"backbone": {"family": "dinov2", "patch_size": 16, "embed_dim": 32, "depth": 2, "num_heads": 2,
                              "pos_grid": [4, 4]},
                "modalities": [{"name": "CFP", "kind": "image", "size": [60, 60]},
                               {"name": "OCT", "kind": "image", "size": [64, 48]}],
                "classes": ["normal", "dryAMD", "wetAMD"],
                "adapter": {"per_pair": true, "hidden": 16, "norm": true}})");
    f.close();
    out.model = QDir(dir).filePath("tiny.eimodel");
    const QString err = runCli({"init", "--config", config, "--seed", "3", "--random-adapters", "--out", out.model});
    if (!err.isEmpty())
        return err;
    QImage cfp(90, 80, QImage::Format_RGB888);
    for (int y = 0; y < 80; ++y)
        for (int x = 0; x < 90; ++x)
            cfp.setPixelColor(x, y, QColor(200 - x, 60 + y, (x * y) % 255));
    out.cfp = QDir(dir).filePath("CFP_patient.png");
    QImage oct(70, 50, QImage::Format_Grayscale8);
    for (int y = 0; y < 50; ++y)
        for (int x = 0; x < 70; ++x)
            oct.scanLine(y)[x] = uchar((x * 3 + y * 5) % 256);
    out.oct = QDir(dir).filePath("OCT_patient.png");
    if (!cfp.save(out.cfp) || !oct.save(out.oct))
        return "cannot write the images";
    return {};
}

// Writes `bytes` to `path`; false when it cannot.
inline bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// <dir>/data: a synthetic CFP + OCT data set (manifest.csv, 32 x 32 images) of `studies`
// studies; <dir>/backbone.safetensors: a tiny random DINOv2-shaped backbone (patch 16,
// width 16, one block), as import-backbone writes them. Returns the backbone's path.
inline QString writeTinyTrainingSet(const QString& dir, int studies)
{
    SyntheticOptions o;
    o.studies = studies;
    o.size = 32;
    writeSyntheticDataset(QDir(dir).filePath("data").toStdString(), o);
    BackboneConfig bc;
    bc.patchSize = 16;
    bc.embedDim = 16;
    bc.depth = 1;
    bc.numHeads = 2;
    bc.posGrid = {2, 2};
    torch::manual_seed(0);
    const QString backbone = QDir(dir).filePath("backbone.safetensors");
    writeSafetensors(backbone.toStdString(), VisionTransformer::randomWeights(bc), {{"config", bc.toJson().dump()}});
    return backbone;
}

// Opens files through a StudySession or MainWindow (both answer with filesOpened) and
// waits for the worker; returns the problems, or why there was no answer.
template <typename Target>
QStringList openAndWait(Target& target, const QStringList& paths)
{
    QSignalSpy opened(&target, &Target::filesOpened);
    const quint64 ticket = target.openFiles(paths);
    if (!opened.wait(120000))
        return {"timed out"};
    if (opened.first().at(0).toULongLong() != ticket)
        return {"another ticket"};
    return opened.first().at(1).toStringList();
}

}  // namespace ei::test
