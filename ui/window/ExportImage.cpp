// See ExportImage.h.
#include "ui/window/ExportImage.h"

#include "core/inference/InferenceResult.h"
#include "core/inference/InferenceRunner.h"
#include "core/inference/Uncertainty.h"
#include "ui/viewer/Viewport.h"
#include "ui/viewer/ViewportGrid.h"

#include <QFileInfo>
#include <QFontMetrics>
#include <QAbstractTextDocumentLayout>
#include <QBuffer>
#include <QPainter>
#include <QPdfWriter>
#include <QTextDocument>

#include <algorithm>

namespace ei {

namespace {

const QColor kPage(0x12, 0x13, 0x15);
const QColor kText(0xd8, 0xdb, 0xe0);
const QColor kWarn(0xf2, 0xc9, 0xc0);

// The part of a rendered viewport that differs from its background (the corner colour),
// with a small margin; the whole image when nothing does.
QImage trimmed(const QImage& shot)
{
    const QRgb bg = shot.pixel(2, 2);
    int left = shot.width(), right = -1, top = shot.height(), bottom = -1;
    for (int y = 0; y < shot.height(); ++y) {
        const auto* line = reinterpret_cast<const QRgb*>(shot.constScanLine(y));
        for (int x = 0; x < shot.width(); ++x)
            if (line[x] != bg) {
                left = std::min(left, x);
                right = std::max(right, x);
                top = std::min(top, y);
                bottom = std::max(bottom, y);
            }
    }
    if (right < 0)
        return shot;
    const int m = 6;
    return shot.copy(QRect(QPoint(left, top), QPoint(right, bottom)).adjusted(-m, -m, m, m).intersected(shot.rect()));
}

QString percent(float p) { return QString::number(p * 100.0, 'f', 1) + QStringLiteral(" %"); }

}  // namespace

QStringList exportSummaryLines(const InferenceResult& result, const ModelSummary& model)
{
    QStringList lines;
    const int top = result.topClass();
    if (result.multilabel) {
        QStringList positive;
        for (int c : result.positiveClasses())
            positive << QStringLiteral("%1 (%2)").arg(QString::fromStdString(result.classes[c]), percent(result.fusedProbs[c]));
        lines << (positive.isEmpty() ? QStringLiteral("No class above 0.5 (fused)")
                                     : QStringLiteral("Above 0.5: %1 (fused)").arg(positive.join(QStringLiteral(", "))));
    } else if (top >= 0 && top < int(result.classes.size())) {
        lines << QStringLiteral("Most likely: %1 (%2, fused)").arg(QString::fromStdString(result.classes[top]), percent(result.fusedProbs[top]));
    }
    const auto perClass = [&result](const std::vector<float>& probs) {  // "normal 12.0 %, lesion 88.0 %"
        QStringList parts;
        for (std::size_t c = 0; c < result.classes.size() && c < probs.size(); ++c)
            parts << QStringLiteral("%1 %2").arg(QString::fromStdString(result.classes[c]), percent(probs[c]));
        return parts.join(QStringLiteral(", "));
    };
    lines << QStringLiteral("Fused: ") + perClass(result.fusedProbs);
    for (std::size_t m = 0; m < result.modalities.size(); ++m) {
        const auto& mod = result.modalities[m];
        if (mod.missing) {
            lines << QString::fromStdString(mod.name) + QStringLiteral(": missing, the prediction was computed without it");
            continue;
        }
        QString line = QString::fromStdString(mod.name) + QStringLiteral(" alone: ") + perClass(mod.probs);
        if (m < result.gate.size())
            line += QStringLiteral("   gate %1").arg(result.gate[m], 0, 'f', 2);
        lines << line;
    }
    const Uncertainty u = describeUncertainty(result);
    lines << QString::fromStdString(u.calibrationText) +
                 (u.gateText.empty() ? QString() : QStringLiteral(". Gate: ") + QString::fromStdString(u.gateText));
    lines << QStringLiteral("Model: %1   SHA-256 %2   device %3")
                 .arg(QFileInfo(QString::fromStdString(model.path)).fileName(),
                      QString::fromStdString(result.modelFingerprint.empty() ? model.fingerprint : result.modelFingerprint).left(16),
                      QString::fromStdString(result.device));
    return lines;
}

static QVector<QImage> viewportShots(ViewportGrid* grid)
{
    // Each visible viewport without the active frame.
    QVector<QImage> shots;
    for (Viewport* v : grid->viewports()) {
        if (!v->isVisibleTo(grid) && grid->maximized())
            continue;
        const bool wasActive = v == grid->activeViewport();
        v->setActive(false);
        QImage shot(v->size(), QImage::Format_RGB32);
        v->render(&shot);
        v->setActive(wasActive);
        shots << trimmed(shot);
    }
    return shots;
}

static QString intendedUseLine(const ModelSummary& model)
{
    return model.intendedUse.empty() ? QStringLiteral("Intended use: not stated in the model file.")
                                     : QStringLiteral("Intended use: ") + QString::fromStdString(model.intendedUse);
}

QImage composeExportImage(ViewportGrid* grid, const InferenceResult& result, const ModelSummary& model)
{
    const QVector<QImage> shots = viewportShots(grid);

    // The footer: what the result says and which model said it.
    const QStringList lines = exportSummaryLines(result, model);
    const QString intended = intendedUseLine(model);

    int width = 0, height = 0;
    for (const QImage& s : shots) {
        width += s.width();
        height = std::max(height, s.height());
    }
    width = std::max(width, 640);
    QFont font;
    font.setPixelSize(13);
    const QFontMetrics fm(font);
    const int pad = 10;
    const QRect textArea(pad, 0, width - 2 * pad, 10000);
    const int linesHeight = fm.lineSpacing() * int(lines.size());
    const int intendedHeight = fm.boundingRect(textArea, Qt::TextWordWrap, intended).height();
    const int footer = pad + linesHeight + 4 + intendedHeight + pad;

    QImage out(width, height + footer, QImage::Format_RGB32);
    out.fill(kPage);
    QPainter p(&out);
    int x = 0;
    for (const QImage& s : shots) {
        p.drawImage(x, 0, s);
        x += s.width();
    }
    p.setFont(font);
    p.setPen(kText);
    int y = height + pad;
    for (const QString& line : lines) {
        p.drawText(QRect(pad, y, width - 2 * pad, fm.lineSpacing()), Qt::AlignLeft | Qt::AlignVCenter, line);
        y += fm.lineSpacing();
    }
    p.setPen(kWarn);
    p.drawText(QRect(pad, y + 4, width - 2 * pad, intendedHeight), Qt::TextWordWrap, intended);
    return out;
}

QByteArray renderPdfReport(ViewportGrid* grid, const InferenceResult& result, const ModelSummary& model,
                           const QStringList& sections)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    QPdfWriter pdf(&buffer);
    pdf.setPageSize(QPageSize(QPageSize::A4));
    pdf.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout::Millimeter);
    pdf.setResolution(150);
    pdf.setTitle(QStringLiteral("EIView result"));
    pdf.setCreator(QStringLiteral("EIView"));

    QPainter p(&pdf);
    const QRect page = p.viewport();
    int y = 0;
    QFont heading;
    heading.setPointSizeF(16);
    heading.setBold(true);
    p.setFont(heading);
    p.drawText(QRect(0, y, page.width(), 80), Qt::AlignLeft | Qt::AlignTop, QStringLiteral("EIView result"));
    y += QFontMetrics(heading, &pdf).height() + 20;

    // The images side by side, scaled to the page width (at most half the page high).
    const QVector<QImage> shots = viewportShots(grid);
    int w = 0, h = 0;
    for (const QImage& s : shots) {
        w += s.width();
        h = std::max(h, s.height());
    }
    if (w > 0 && h > 0) {
        const double scale = std::min(double(page.width()) / w, page.height() * 0.5 / h);
        double x = 0;
        for (const QImage& s : shots) {
            const QRectF target(x, y, s.width() * scale, s.height() * scale);
            p.drawImage(target, s);
            x += target.width();
        }
        y += int(h * scale) + 30;
    }

    // The result as text (selectable, searchable), then the caller's sections.
    QString html = QStringLiteral("<p><b>%1</b></p>").arg(intendedUseLine(model).toHtmlEscaped());
    for (const QString& line : exportSummaryLines(result, model))
        html += QStringLiteral("<p>%1</p>").arg(line.toHtmlEscaped());
    for (const QString& section : sections)
        html += QStringLiteral("<p>%1</p>").arg(section.toHtmlEscaped().replace('\n', QStringLiteral("<br>")));
    html += QStringLiteral("<p><i>%1</i></p>")
                .arg(QStringLiteral("Model output for research and decision support; patient identifiers are not part of this report.")
                         .toHtmlEscaped());
    QTextDocument doc;
    doc.setDefaultStyleSheet(QStringLiteral("p { color: #111111; }"));  // paper, not the dark window theme
    QFont body;
    body.setPointSizeF(9.5);
    doc.setDefaultFont(body);
    doc.documentLayout()->setPaintDevice(&pdf);
    doc.setTextWidth(page.width());
    doc.setHtml(html);
    p.translate(0, y);
    doc.drawContents(&p, QRectF(0, 0, page.width(), page.height() - y));
    p.end();
    return bytes;
}

}  // namespace ei
