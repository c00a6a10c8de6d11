// The PNG of an export: each viewport as the user sees it (overlay, colour bar, text),
// without the active-viewport frame, trimmed of the empty background around the image,
// side by side, over a footer that states the result: the fused top class, the fused and
// per-modality probabilities, the gate weights, the model's file, fingerprint and
// intended use. A PNG that leaves EIView then carries what it is.
#pragma once

#include <QByteArray>
#include <QImage>
#include <QStringList>

namespace ei {

class ViewportGrid;
struct InferenceResult;
struct ModelSummary;

QImage composeExportImage(ViewportGrid* grid, const InferenceResult& result, const ModelSummary& model);

// The footer's lines above the intended use: the verdict (the top class, or for a
// multi-label model the classes at or above 0.5), fused and per-modality probabilities
// with the gate weights, and the model.
QStringList exportSummaryLines(const InferenceResult& result, const ModelSummary& model);

// A one-page A4 PDF report: the viewports as shown, the intended use, the summary lines
// as text, then the caller's sections (e.g. measurements). No patient identifiers.
QByteArray renderPdfReport(ViewportGrid* grid, const InferenceResult& result, const ModelSummary& model,
                           const QStringList& sections = {});

}  // namespace ei
