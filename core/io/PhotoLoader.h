// 2-D pictures through OpenCV: PNG, JPEG, TIFF (8 / 16 bit, first page), BMP; grey or
// colour (BGR turned to RGB, alpha dropped). Values are the stored ones (0..255 or
// 0..65535), as float.
#pragma once

#include "core/io/Image.h"

#include <string>

namespace ei {

// format: "png", "jpeg", "tiff" or "bmp" (as detected by core/io/ImageLoader).
Image loadPhoto(const std::string& path, const std::string& format);

}  // namespace ei
