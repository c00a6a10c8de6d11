// DICOM loading through DCMTK: one file (single or multi-frame) or a list of files that
// form one series, into ei::Image. Pixels are the stored values after the modality
// transform (rescale slope / intercept, applied in float); MONOCHROME1 is NOT inverted
// (Image::photometric says so and the display / preprocessing invert). Colour data
// (RGB, YBR_*, PALETTE COLOR) becomes RGB. JPEG 2000 is refused: open DCMTK has no
// decoder for it.
#pragma once

#include "core/io/Image.h"
#include "models/JobControl.h"

#include <string>
#include <vector>

namespace ei {

// True when the file has the DICOM Part 10 preamble ("DICM" at byte 128).
bool hasDicomPreamble(const std::string& path);

// One DICOM file; a multi-frame file becomes a volume (frames as slices).
// Throws ei::BadInputError naming the file for anything it cannot use.
Image loadDicomFile(const std::string& path);

// Files of one series: stacked as a volume, sorted by ImagePositionPatient projected on
// the slice normal (then InstanceNumber, then file name). All slices must share size and
// colour; sourcePath names the folder (or DICOMDIR) in messages and in Image::sourcePath.
Image loadDicomSeries(const std::vector<std::string>& files, const std::string& sourcePath,
                      const JobControl* control = nullptr);

}  // namespace ei
