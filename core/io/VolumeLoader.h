// Geometric volumes through ITK's IO classes (NIfTI .nii / .nii.gz / .hdr, NRRD .nrrd /
// .nhdr, MetaImage .mha / .mhd), reoriented so that slicing means what a radiologist
// expects (reorientToCanonical). 4-D data: the first volume is taken (the count is kept in
// tags.other["volumes"]); complex and vector voxels are refused.
#pragma once

#include "core/io/Image.h"

#include <string>

namespace ei {

// format: "nifti", "nrrd" or "metaimage".
Image loadItkVolume(const std::string& path, const std::string& format);

// Permutes and flips the voxel axes (no resampling) so that, in LPS patient space:
//  - the slice axis is the stored third axis' nearest patient axis, which names the
//    plane: axial (slices inferior -> superior), coronal (anterior -> posterior) or
//    sagittal (right -> left);
//  - in-plane the picture is shown as radiologists read it: axial and coronal with the
//    patient's right on the image's left (columns run R -> L) and, for axial, anterior
//    at the top; coronal and sagittal with superior at the top (rows run S -> I);
//    sagittal with anterior on the left (columns run A -> P).
// Updates direction, origin, spacing and canonicalPlane. No-op without geometry.
void reorientToCanonical(Image& image);
// The same with the slice axis along patient axis slicePatient (0: left, sagittal;
// 1: posterior, coronal; 2: superior, axial): a reformat into that plane, nearest
// voxel axes (an oblique volume goes to its closest plane; no resampling).
void reorientToPlane(Image& image, int slicePatient);

}  // namespace ei
