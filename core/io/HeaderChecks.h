// Checks of volume file headers before ITK reads them: ITK's MetaImage reader spins
// forever on some malformed headers (NDims = -1), its NIfTI reader reads past its buffer
// when datatype and bitpix disagree, and both accept data that is short, undecodable or
// not pixels at all (the header itself, /dev/zero). Every check throws BadInputError
// naming the file and the problem; none reads more than the header and the data's size
// (a compressed body is inflated once, to count it).
#pragma once

#include <string>

namespace ei {

// MetaImage (.mha / .mhd): NDims 2..4, DimSize, ElementType, channels, header size,
// ElementDataFile (LOCAL or a regular file beside the header, not the header itself;
// file lists and patterns refused), and the body: exactly the bytes the header
// describes, or a zlib stream that inflates to exactly that.
void checkMetaImageHeader(const std::string& path);

// NIfTI-1 (.nii, .nii.gz; .hdr / .img pairs are left to ITK): sizeof_hdr, dims, a known
// datatype whose size agrees with bitpix, no 4-D colour, vox_offset, and the data
// (inflated for .gz) at least vox_offset + voxels x the datatype's size.
void checkNiftiHeader(const std::string& path);

// NRRD (.nrrd / .nhdr): a detached "data file" is a regular file other than the header;
// for raw encoding without skips its size is exactly the voxels'.
void checkNrrdHeader(const std::string& path);

}  // namespace ei
