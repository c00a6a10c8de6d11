// loadImage(): format detection and dispatch (see ImageLoader.h).
#include "core/io/ImageLoader.h"

#include "core/io/DicomLoader.h"
#include "core/io/MghLoader.h"
#include "core/io/NpyLoader.h"
#include "core/io/PhotoLoader.h"
#include "core/io/VolumeLoader.h"
#include "models/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace ei {

namespace {

// Largest image we accept: 2^30 samples (4 GiB as float). Anything bigger is a
// corrupt header far more often than a real study.
constexpr long long kMaxSamples = 1LL << 30;
constexpr long long kMaxSide = 1LL << 20;

std::string lowerExtension(const std::string& path)
{
    std::string name = fs::path(path).filename().string();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto endsWith = [&](const char* s) {
        const std::size_t n = std::strlen(s);
        return name.size() >= n && name.compare(name.size() - n, n, s) == 0;
    };
    for (const char* e : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".mgz", ".mgh", ".png", ".jpg", ".jpeg",
                          ".tif", ".tiff", ".bmp", ".npy", ".dcm", ".dicom", ".img", ".hdr"})
        if (endsWith(e))
            return e;
    return {};
}

std::string formatOfExtension(const std::string& ext)
{
    if (ext == ".nii.gz" || ext == ".nii" || ext == ".hdr" || ext == ".img")
        return "nifti";
    if (ext == ".nrrd" || ext == ".nhdr")
        return "nrrd";
    if (ext == ".mha" || ext == ".mhd")
        return "metaimage";
    if (ext == ".mgz" || ext == ".mgh")
        return "mgh";
    if (ext == ".png")
        return "png";
    if (ext == ".jpg" || ext == ".jpeg")
        return "jpeg";
    if (ext == ".tif" || ext == ".tiff")
        return "tiff";
    if (ext == ".bmp")
        return "bmp";
    if (ext == ".npy")
        return "npy";
    if (ext == ".dcm" || ext == ".dicom")
        return "dicom";
    return {};
}

bool startsWith(const std::string& head, const char* magic, std::size_t n)
{
    return head.size() >= n && std::memcmp(head.data(), magic, n) == 0;
}

// The format the first bytes prove, or "" when they prove nothing.
std::string formatOfContent(const std::string& head)
{
    if (head.size() >= 132 && std::memcmp(head.data() + 128, "DICM", 4) == 0)
        return "dicom";
    if (startsWith(head, "\x93NUMPY", 6))
        return "npy";
    if (startsWith(head, "\x89PNG\r\n\x1a\n", 8))
        return "png";
    if (startsWith(head, "\xff\xd8\xff", 3))
        return "jpeg";
    if (startsWith(head, "II*\0", 4) || startsWith(head, "MM\0*", 4))
        return "tiff";
    if (startsWith(head, "BM", 2) && head.size() >= 26)
        return "bmp";
    if (startsWith(head, "NRRD000", 7))
        return "nrrd";
    if (head.size() >= 348 && (std::memcmp(head.data() + 344, "n+1\0", 4) == 0 || std::memcmp(head.data() + 344, "ni1\0", 4) == 0))
        return "nifti";
    if (head.size() >= 8 && (std::memcmp(head.data() + 4, "n+2\0", 4) == 0 || std::memcmp(head.data() + 4, "ni2\0", 4) == 0))
        return "nifti";
    if (startsWith(head, "\x1f\x8b", 2))
        return "gzip";
    for (const char* key : {"ObjectType", "NDims"})
        if (startsWith(head, key, std::strlen(key)))
            return "metaimage";
    return {};
}

std::string readHead(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string head(540, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
    return head;
}

const DicomSeriesEntry& pickSeries(const std::vector<DicomSeriesEntry>& list, const std::string& path, const std::string& uid)
{
    if (list.empty())
        throw BadInputError(path, "holds no DICOM image series");
    if (uid.empty())
        return list.front();
    for (const auto& s : list)
        if (s.seriesUid == uid)
            return s;
    throw BadInputError(path, "holds no series with the requested SeriesInstanceUID");
}

}  // namespace

void checkReadableFile(const std::string& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw BadInputError(path, "file does not exist");
    if (!fs::is_regular_file(path, ec))
        throw BadInputError(path, "is not a regular file");
    if (fs::file_size(path, ec) == 0)
        throw BadInputError(path, "file is empty");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot be opened for reading");
}

void checkImageSize(const std::string& path, long long slices, long long height, long long width, long long channels)
{
    const bool bad = slices < 1 || height < 1 || width < 1 || channels < 1 || height > kMaxSide || width > kMaxSide ||
                     slices > kMaxSide || static_cast<double>(slices) * height * width * channels > static_cast<double>(kMaxSamples);
    if (bad)
        throw BadInputError(path, "absurd dimensions: " + std::to_string(slices) + " slices of " + std::to_string(width) +
                                      " x " + std::to_string(height) + " x " + std::to_string(channels) +
                                      " (limit 2^30 samples)");
}

std::string detectImageFormat(const std::string& path)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        throw BadInputError(path, "file does not exist");
    if (fs::is_directory(path, ec))
        return "dicom-folder";
    checkReadableFile(path);
    const std::string ext = lowerExtension(path);
    const std::string byExt = formatOfExtension(ext);
    std::string byContent = formatOfContent(readHead(path));
    if (byContent == "dicom")
        return isDicomDirFile(path) ? "dicomdir" : "dicom";
    if (byContent == "gzip") {
        if (ext == ".nii.gz")
            return "nifti";
        if (ext == ".mgz")
            return "mgh";
        throw BadInputError(path, "is gzip-compressed but not named .nii.gz or .mgz; cannot tell what it holds");
    }
    if (!byContent.empty())
        return byContent;  // content wins over a misleading extension
    // No magic number: formats that have none (.mgh, .mhd / .nhdr text headers without the
    // usual first key, DICOM without preamble) are trusted to their extension.
    if (byExt == "mgh" && ext == ".mgh")
        return "mgh";
    if (byExt == "metaimage" || byExt == "nrrd" || byExt == "dicom" || (byExt == "nifti" && (ext == ".hdr" || ext == ".img")))
        return byExt;
    if (!byExt.empty())
        throw BadInputError(path, "content is not a " + byExt + " file (wrong extension, or not an image)");
    throw BadInputError(path, "unrecognised file format (expected DICOM, NIfTI, NRRD, MetaImage, MGH/MGZ, PNG, "
                              "JPEG, TIFF, BMP or .npy)");
}

std::vector<DicomSeriesEntry> listSeries(const std::string& path, const JobControl* control)
{
    const std::string format = detectImageFormat(path);
    if (format == "dicom-folder")
        return scanDicomFolder(path, control);
    if (format == "dicomdir")
        return readDicomDir(path);
    return {};
}

namespace {

// Scanning a folder's headers is the smaller part of a series' cost (the first fifth of
// the progress); reading the pixels of the chosen series the larger.
constexpr double kScanShare = 0.2;

JobControl partOf(const JobControl* control, double from, double to)
{
    return control ? control->part(from, to) : JobControl{};
}

}  // namespace

namespace {

// One rule for every format: a NaN or an infinity is not a pixel value. It would reach
// the model as NaN predictions and maps (issue 12, #6).
void refuseNonFinite(const std::string& path, const Image& image)
{
    for (std::size_t i = 0; i < image.pixels.size(); ++i)
        if (!std::isfinite(image.pixels[i])) {
            const std::size_t perSlice = std::max<std::size_t>(1, image.sliceStride());
            throw BadInputError(path, "holds non-finite pixel values (NaN or infinity), the first in slice " +
                                          std::to_string(i / perSlice + 1));
        }
}

}  // namespace

std::vector<Image> loadEverySeries(const std::string& path, const JobControl* control)
{
    const JobControl scan = partOf(control, 0.0, kScanShare);
    const auto list = listSeries(path, control ? &scan : nullptr);
    if (list.empty())
        throw BadInputError(path, "holds no DICOM image series");
    std::vector<Image> images;
    const double n = static_cast<double>(list.size());
    for (std::size_t s = 0; s < list.size(); ++s) {
        const JobControl read = partOf(control, kScanShare + (1 - kScanShare) * s / n, kScanShare + (1 - kScanShare) * (s + 1) / n);
        images.push_back(loadDicomSeries(list[s].files, path, control ? &read : nullptr));
        refuseNonFinite(path, images.back());
    }
    return images;
}

namespace {

Image loadByFormat(const std::string& path, const std::string& seriesUid, const JobControl* control)
{
    const std::string format = detectImageFormat(path);
    if (format == "dicom-folder" || format == "dicomdir") {
        const JobControl scan = partOf(control, 0.0, kScanShare), read = partOf(control, kScanShare, 1.0);
        const auto list = listSeries(path, control ? &scan : nullptr);
        const auto& series = pickSeries(list, path, seriesUid);
        return loadDicomSeries(series.files, path, control ? &read : nullptr);
    }
    if (format == "dicom")
        return loadDicomFile(path);
    if (format == "npy")
        return loadNpyVolume(path);
    if (format == "mgh")
        return loadMghVolume(path);
    if (format == "nifti" || format == "nrrd" || format == "metaimage")
        return loadItkVolume(path, format);
    return loadPhoto(path, format);
}

}  // namespace

Image loadImage(const std::string& path, const std::string& seriesUid, const JobControl* control)
{
    Image image = loadByFormat(path, seriesUid, control);
    refuseNonFinite(path, image);
    return image;
}

}  // namespace ei
