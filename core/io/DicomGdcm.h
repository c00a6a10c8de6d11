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

// `file`: a DICOM file (preamble, meta header, data set) in memory; `path` names it in
// errors. BadInputError naming the file when GDCM cannot read or decode it. The loader
// passes DCMTK's re-encoding of the data set it parsed (DicomLoader.cpp), never the file
// as it came: GDCM's own parser trusts every value length it reads.
DecodedPixels decodeWithGdcm(const std::string& file, const std::string& path);

}  // namespace ei
