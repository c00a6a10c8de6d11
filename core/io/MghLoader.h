// FreeSurfer MGH / MGZ volumes (.mgh, .mgz = gzip'ed .mgh). ITK 5.2 in Debian has no MGH
// reader, so this is a small one of our own, after FreeSurfer's format description: a
// 284-byte big-endian header (dimensions, type, voxel sizes, direction cosines, centre),
// then the voxels (big-endian, x fastest). Multi-frame files: the first frame is taken.
#pragma once

#include "core/io/Image.h"

#include <string>

namespace ei {

Image loadMghVolume(const std::string& path);

}  // namespace ei
