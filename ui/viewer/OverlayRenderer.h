// Turns a similarity map into pixels that line up with the image the model saw.
//
// Geometry (docs/viewer.md): the model saw the image resized (no crop, aspect not kept)
// to inputWidth x inputHeight and zero-padded on the right / bottom to a multiple of the
// patch p. Map cell (r, c) covers model pixels [r*p, (r+1)*p) x [c*p, (c+1)*p). The map
// is upsampled bilinearly with cell centres at ((c + 0.5) p, (r + 0.5) p) (PyTorch's
// interpolate, align_corners = false, edge cells clamped), the padding is cropped away,
// and model pixel (u, v) covers original pixels [u W / inputWidth, (u+1) W / inputWidth).
#pragma once

#include "core/inference/InferenceResult.h"
#include "ui/viewer/ColorMap.h"

#include <QImage>
#include <QString>

namespace ei {

class OverlayRenderer {
public:
    struct Range {
        float lo = -1.0f;
        float hi = 1.0f;
    };
    // Colour bar range: min..max of the map over all slices; symmetric around 0 (±max|v|)
    // for delta, so that white means "no change".
    static Range valueRange(const SimilarityMap& map);
    // Signed maps (delta, pixel attributions): a diverging colour map, symmetric about 0.
    static bool isSigned(const SimilarityMap& map) { return map.kind == "delta" || map.kind == "ig"; }

    // Bilinear value at a point in model-input pixel coordinates (pixel centres at +0.5).
    static float sampleInput(const SimilarityMap& map, int slice, double u, double v);
    // Value under original image pixel (x, y) of an imageWidth x imageHeight image.
    static float sampleImagePixel(const SimilarityMap& map, int slice, int x, int y, int imageWidth, int imageHeight);

    // The map of one slice as a premultiplied ARGB image of inputWidth x inputHeight
    // (the padding cropped): draw it onto the image's full rectangle. Cells whose
    // normalised value is below `threshold` (for delta: whose |deviation from 0| is) are
    // transparent.
    static QImage render(const SimilarityMap& map, int slice, const ColorMap& colors, Range range, double opacity,
                         double threshold);

    // Normalised position of a value in the range, 0..1.
    static double normalised(float value, Range range);

    // "[CLS] with [INT]", "Δ ([CLS] with − without [INT])", "[INT] from OCT", ...
    static QString displayName(const QString& kind);
};

}  // namespace ei
