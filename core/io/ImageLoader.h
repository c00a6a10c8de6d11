// The one entry point for loading a study file: picks the loader by content (DICOM
// preamble, PNG / JPEG / TIFF / BMP / NIfTI / NRRD / gzip / .npy magic numbers), then by
// extension; a folder is a DICOM series, a DICOMDIR a list of series.
#pragma once

#include "core/io/DicomDirectory.h"
#include "core/io/Image.h"
#include "models/JobControl.h"

#include <string>
#include <vector>

namespace ei {

// Loads a file, a folder holding a DICOM series, or a DICOMDIR. For a folder or DICOMDIR
// with several series, `seriesUid` picks one; empty picks the first (lowest series
// number). Every problem is an ei::BadInputError naming the file and the problem (also
// a NaN or infinite pixel, for every format); the input is only ever read. `control` (optional) gets progress and a cancel checkpoint per
// file of a series (ei::Cancelled).
Image loadImage(const std::string& path, const std::string& seriesUid = {}, const JobControl* control = nullptr);

// Every DICOM series of a folder or DICOMDIR, each as one image (headers scanned once),
// with progress and a cancel checkpoint per file. BadInputError when there is none.
std::vector<Image> loadEverySeries(const std::string& path, const JobControl* control = nullptr);

// The DICOM series in a folder or DICOMDIR; empty for a single file.
std::vector<DicomSeriesEntry> listSeries(const std::string& path, const JobControl* control = nullptr);

// What loadImage would treat `path` as: "dicom", "dicomdir", "dicom-folder", "nifti",
// "nrrd", "metaimage", "mgh", "png", "jpeg", "tiff", "bmp", "npy". BadInputError for a
// missing file or an unrecognised format.
std::string detectImageFormat(const std::string& path);

// Shared by the loaders: the file exists, is a regular file and is not empty.
void checkReadableFile(const std::string& path);

// Shared by the loaders: refuses absurd sizes before anything is allocated.
void checkImageSize(const std::string& path, long long slices, long long height, long long width, long long channels);

}  // namespace ei
