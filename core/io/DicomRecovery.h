// Reading DICOM files that are wrong in a way other toolkits forgive: a data set encoded
// in Implicit VR Little Endian under a meta header that names an explicit, compressed
// transfer syntax (seen in pydicom's test files: JPEG Baseline secondary captures).
// DCMTK cannot override the meta header's transfer syntax; this reads the data set as
// implicit from the bytes after the meta header and files its pixel fragments under the
// meta header's syntax, so DCMTK's decoders take them as usual. Includes DCMTK headers:
// core/io only.
#pragma once

#include "core/io/Image.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <string>

namespace ei {

// Replaces file's data set by the bytes after its meta header read as Implicit VR Little
// Endian, its encapsulated pixel data filed under the meta header's transfer syntax.
// False when that does not give an encapsulated image either.
bool rereadDataSetAsImplicit(const std::string& path, DcmFileFormat& file);

}  // namespace ei
