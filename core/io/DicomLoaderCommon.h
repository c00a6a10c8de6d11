// DCMTK pieces shared by the DICOM file / series loader and the DICOMDIR / folder
// scanner. Includes DCMTK headers: for core/*.cpp only, never for ui/.
#pragma once

#include "core/io/Image.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <string>

namespace ei {

// Registers the JPEG, JPEG-LS and RLE decoders once and silences DCMTK's own logging
// (its warnings would otherwise reach stderr, and may quote tag values).
void ensureDcmtkReady();

// Converts every string of a data set (nested items included) from its Specific
// Character Set (ISO 8859-x, ISO 2022 escapes, GB18030, ...) to UTF-8, in memory only.
// What cannot be converted stays; dicomString then replaces invalid bytes.
void convertToUtf8(DcmDataset* dataset);
// Valid UTF-8: invalid byte sequences become U+FFFD.
std::string validUtf8(const std::string& text);

// A tag's value(s) as text, backslash-joined, trimmed, valid UTF-8; "" when absent.
std::string dicomString(DcmItem* item, const DcmTagKey& key);

// The tags the study panel shows (ImageTags) and the patient identity, kept apart.
void readDicomTags(DcmItem* dataset, ImageTags& tags, PatientIdentity& patient);

// Every element of a data set (sequences item by item, at most kMaxElements in all),
// with identifying values hidden. Pixel data is listed by size only.
void readDicomElements(DcmItem* dataset, std::vector<DicomElement>& out);
// True for a tag whose value identifies a person or a place (the panel hides it).
bool isIdentifyingTag(const DcmTagKey& key, DcmEVR vr);

// True for a DICOMDIR (Media Storage Directory Storage).
bool isDicomDirObject(DcmFileFormat& file);

}  // namespace ei
