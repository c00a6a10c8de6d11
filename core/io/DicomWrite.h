// Writing a DICOM file the way every EIView output is written: to a temporary file beside
// the target, then renamed into place, so a crash leaves the whole file or none.
#pragma once

#include <string>

class DcmFileFormat;

namespace ei {

// Saves `file` at `path` in its data set's original transfer syntax (Explicit VR Little
// Endian when it has none). Throws BadInputError naming `path` on failure.
void saveDicomFileAtomically(DcmFileFormat& file, const std::string& path);

}  // namespace ei
