// The loaded picture of one modality: a 2-D image (slices == 1) or a volume, pixels as
// float after the modality transform (DICOM rescale slope / intercept), with the facts
// the viewer and the model path need. A plain struct: no Qt, DCMTK, ITK or LibTorch,
// so ui/ and every loader can share it.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

namespace ei {

// Identifying data, kept apart from everything else: never logged, never exported
// unless the user asks for it.
struct PatientIdentity {
    std::string name;
    std::string id;
    std::string birthDate;
    std::string sex;
    std::string accessionNumber;
    std::string institution;
};

// One element of a DICOM data set as the tag browser lists it. Identifying values
// (person names, group 0010, IDs, institution, ...) are replaced by kHiddenValue.
struct DicomElement {
    std::string tag;    // "(0018,0080)"
    std::string name;   // "RepetitionTime" (DCMTK's dictionary; "Unknown Tag & Data" if none)
    std::string vr;     // "DS", "SQ", ...
    std::string value;  // text (at most 256 characters), "<1234 bytes>" for binary data
    int depth = 0;      // 0 at the top, 1 inside a sequence item, ...
};
inline constexpr const char* kHiddenValue = "(identifier, not shown)";

// Non-identifying tags the study panel shows.
struct ImageTags {
    std::string modality;           // DICOM (0008,0060): OP, OPT, XC, ES, MR, CT, ...
    std::string laterality;         // (0020,0060) / (0020,0062)
    std::string seriesDescription;  // (0008,103E)
    std::string studyDate;          // (0008,0020)
    std::string manufacturer;       // (0008,0070)
    std::string bodyPart;           // (0018,0015)
    std::string seriesInstanceUid;  // (0020,000E)
    std::map<std::string, std::string> other;  // "(gggg,eeee) Name" -> value, identifiers excluded
    std::vector<DicomElement> elements;         // DICOM: the whole data set, in file order
};

struct Image {
    // Pixels in [slice][row][column][channel] order, contiguous. channels is 1 (grey)
    // or 3 (RGB, whatever the stored photometric interpretation was).
    int slices = 0;
    int height = 0;
    int width = 0;
    int channels = 0;
    std::vector<float> pixels;

    // Geometry (mm). spacing = {column, row, slice}. direction holds the row direction,
    // the column direction and the slice normal (3 x 3, row-major), in LPS patient
    // coordinates; origin is the centre of the first pixel of slice 0.
    std::array<double, 3> spacing{1.0, 1.0, 1.0};
    std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};
    std::array<double, 3> origin{0, 0, 0};
    bool hasGeometry = false;  // false for photos (PNG / JPEG / ...)
    // Position of each slice along the slice normal (mm), when known (DICOM series,
    // NIfTI / NRRD / MetaImage / MGH volumes); empty otherwise.
    std::vector<double> slicePositions;

    // Facts about the stored data.
    std::string sourcePath;      // the file, series folder or DICOMDIR it came from
    std::string format;          // "dicom", "nifti", "nrrd", "metaimage", "mgh", "png", "jpeg", "tiff", "bmp", "npy"
    std::string photometric;     // "MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "PALETTE COLOR", ...
    int bitsStored = 8;
    bool isSigned = false;
    std::string transferSyntax;  // DICOM only: UID of the original transfer syntax
    // For a volume read through ITK or the MGH reader: the plane its slices were
    // reoriented to ("axial", "coronal", "sagittal"; see reorientToCanonical in
    // core/io/VolumeLoader.h). "" for photos and DICOM, which keep their stored order.
    std::string canonicalPlane;

    // Default display window (centre / width), from DICOM or from the data range.
    double windowCenter = 127.5;
    double windowWidth = 255.0;

    ImageTags tags;
    PatientIdentity patient;

    bool isVolume() const { return slices > 1; }
    std::size_t sliceStride() const { return static_cast<std::size_t>(height) * width * channels; }
    float at(int s, int y, int x, int c = 0) const
    {
        return pixels[static_cast<std::size_t>(s) * sliceStride() + (static_cast<std::size_t>(y) * width + x) * channels + c];
    }
};

// An all-zero grey image on `target`'s grid (size and geometry): where label masks are
// drawn (core/view/LabelMask, core/io/DicomSeg).
inline Image emptyLabelImageOn(const Image& target, const std::string& sourcePath)
{
    Image mask;
    mask.slices = target.slices > 1 ? target.slices : 1;
    mask.height = target.height;
    mask.width = target.width;
    mask.channels = 1;
    mask.pixels.assign(static_cast<std::size_t>(mask.slices) * mask.height * mask.width, 0.0f);
    mask.spacing = target.spacing;
    mask.direction = target.direction;
    mask.origin = target.origin;
    mask.hasGeometry = target.hasGeometry;
    mask.slicePositions = target.slicePositions;
    mask.canonicalPlane = target.canonicalPlane;
    mask.sourcePath = sourcePath;
    mask.photometric = "MONOCHROME2";
    return mask;
}

}  // namespace ei
