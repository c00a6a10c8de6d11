// Pixel data that DCMTK cannot decode, through GDCM (Debian's libgdcm, OpenJPEG inside):
// JPEG 2000 (transfer syntaxes 1.2.840.10008.1.2.4.90 / .91). The tags still come from
// DCMTK; only the samples come from here.
#pragma once

#include <string>
#include <vector>

namespace ei {

struct DecodedPixels {
    int rows = 0, cols = 0, frames = 0, samples = 0;
    std::string photometric;  // as GDCM reports it after decoding ("RGB" for YBR_ICT / YBR_RCT)
    std::vector<float> values;  // [frame][row][col][sample], stored values (no rescale)
};

// BadInputError naming the file when GDCM cannot read or decode it.
DecodedPixels decodeWithGdcm(const std::string& path);

}  // namespace ei
