// Where a similarity map's values fall on the original image (MODEL.md section 4;
// geometry in docs/viewer.md): bilinear between cell centres over the model's input,
// and the input stretched over the image. One definition for the overlay, the pixel
// read-out, ROI statistics and the map-vs-mask read-out.
#pragma once

#include "core/inference/InferenceResult.h"

#include "core/io/Image.h"

#include <QString>

#include <map>
#include <vector>

namespace ei {

// Bilinear value at a point in model-input pixel coordinates (pixel centres at +0.5).
float sampleMapInput(const SimilarityMap& map, int slice, double u, double v);
// Value under original image pixel (x, y) of an imageWidth x imageHeight image.
float sampleMapAtImagePixel(const SimilarityMap& map, int slice, int x, int y, int imageWidth, int imageHeight);
// The map of one slice at every pixel of an imageWidth x imageHeight image, row-major.
std::vector<float> mapOnImage(const SimilarityMap& map, int slice, int imageWidth, int imageHeight);

// The map of `kind` for a slot's image on one of its slices (kinds[slot], "cls" when the
// slot is not listed, none for ""): nullptr where the result has no such map or the model
// did not see that slice. *mapSlice gets the map's slice index.
const SimilarityMap* findMap(const InferenceResult& result, const QString& slot, const std::map<QString, QString>& kinds,
                             const Image& image, int imageSlice, int* mapSlice);

}  // namespace ei
