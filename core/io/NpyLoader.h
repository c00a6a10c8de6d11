// NumPy volumes (MRNet ships its knee MRI as .npy [S,H,W] uint8): [S,H,W] or a single
// [H,W] slice, any numeric dtype models/io/NpyFile reads (uint8 / int16 / uint16 / float32 /
// ...), C order. A trailing axis of 3 ([S,H,W,3] or [H,W,3]) is read as RGB.
#pragma once

#include "core/io/Image.h"

#include <string>

namespace ei {

Image loadNpyVolume(const std::string& path);

}  // namespace ei
