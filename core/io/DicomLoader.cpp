// DICOM through DCMTK (see DicomLoader.h). Decoding (JPEG, JPEG-LS, RLE, deflate, big
// endian, bit unpacking, colour models) is DCMTK's; the modality transform is ours, in
// float, because DCMTK's own rescale rounds to integers.
#include "core/io/DicomLoader.h"

#include "core/io/DicomGdcm.h"
#include "core/io/DicomLoaderCommon.h"
#include "core/io/DicomRecovery.h"
#include "core/io/ImageLoader.h"
#include "models/Error.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimgle/dcmimage.h>

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>

namespace ei {

namespace fs = std::filesystem;

bool hasDicomPreamble(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    char buf[132];
    if (!in.read(buf, sizeof buf))
        return false;
    return std::memcmp(buf + 128, "DICM", 4) == 0;
}

namespace {

// Without the "DICM" marker DCMTK parses a raw data set from byte 0: an all-zero file
// then reads as billions of empty elements (a 1 GB file took 50 s). True when the file
// has the marker, or begins like a raw data set (a group 0008, 0002 or command element).
bool plausibleDicomStart(const std::string& path)
{
    if (hasDicomPreamble(path))
        return true;
    std::ifstream in(path, std::ios::binary);
    unsigned char b[8] = {};
    if (!in.read(reinterpret_cast<char*>(b), sizeof b))
        return false;
    const unsigned groupLe = b[0] | (b[1] << 8), groupBe = (b[0] << 8) | b[1];
    const bool zeroGroupWithContent = groupLe == 0 && (b[2] | b[3] | b[4] | b[5] | b[6] | b[7]) != 0;
    return groupLe == 0x0008 || groupLe == 0x0002 || groupBe == 0x0008 || groupBe == 0x0002 || zeroGroupWithContent;
}

struct LoadedFile {
    Image image;
    long instanceNumber = 0;
    bool windowFromTags = false;
};

template <typename T>
void copyMono(const void* data, std::size_t count, double slope, double intercept, std::vector<float>& out)
{
    const T* p = static_cast<const T*>(data);
    out.resize(count);
    for (std::size_t i = 0; i < count; ++i)
        out[i] = static_cast<float>(static_cast<double>(p[i]) * slope + intercept);
}

// The data set as DCMTK parsed it, written back as a DICOM file in memory (its transfer
// syntax, the compressed fragments as they were). What GDCM reads: DCMTK checked every
// value length against the file, while GDCM's parser allocates what a damaged length
// says (1.2 GB for a 30 KB file; found by fuzz/dicom_fuzzer).
std::string reencodedFile(DcmDataset* ds, E_TransferSyntax xfer, const std::string& path)
{
    DcmFileFormat copy(ds, OFTrue);
    std::vector<char> chunk(1 << 20);
    DcmOutputBufferStream out(chunk.data(), static_cast<offile_off_t>(chunk.size()));
    std::string bytes;
    copy.transferInit();
    OFCondition status = EC_StreamNotifyClient;
    while (status == EC_StreamNotifyClient) {
        status = copy.write(out, xfer, EET_ExplicitLength, nullptr);
        void* buffer = nullptr;
        offile_off_t length = 0;
        out.flushBuffer(buffer, length);
        bytes.append(static_cast<const char*>(buffer), static_cast<std::size_t>(length));
    }
    copy.transferEnd();
    if (status.bad())
        throw BadInputError(path, std::string("the JPEG 2000 data cannot be passed on for decoding (") + status.text() + ")");
    return bytes;
}

// JPEG 2000 through GDCM: the decoded samples, checked against the DICOM header, with
// the modality rescale applied to grey images (the DCMTK path's result, same layout).
void decodeJpeg2000(const std::string& path, DcmDataset* ds, E_TransferSyntax xfer, Image& image, int rows, int cols,
                    int frames)
{
    // Only the photometric interpretations this path handles reach GDCM: Debian builds it
    // with assertions on, and a palette image without its lookup tables (or a damaged
    // value GDCM takes for "PALETTE COLOR") ends in assert(0) (found by fuzz/dicom_fuzzer).
    OFString pi;
    ds->findAndGetOFString(DCM_PhotometricInterpretation, pi);
    static const std::set<std::string> handled{"MONOCHROME1", "MONOCHROME2", "RGB", "YBR_ICT", "YBR_RCT", "YBR_FULL",
                                               "YBR_FULL_422"};
    if (!handled.count(pi.c_str()))
        throw BadInputError(path, "JPEG 2000 with Photometric Interpretation '" + std::string(pi.c_str()) +
                                      "' is not supported (grey, RGB and YBR are)");
    DecodedPixels px = decodeWithGdcm(reencodedFile(ds, xfer, path), path);
    if (px.rows != rows || px.cols != cols || px.frames != frames)
        throw BadInputError(path, "the JPEG 2000 data is " + std::to_string(px.cols) + " x " + std::to_string(px.rows) + " x " +
                                      std::to_string(px.frames) + ", the header says " + std::to_string(cols) + " x " +
                                      std::to_string(rows) + " x " + std::to_string(frames));
    image.slices = frames;
    image.height = rows;
    image.width = cols;
    image.channels = px.samples == 3 ? 3 : 1;
    if (image.channels == 1) {
        Float64 slope = 1.0, intercept = 0.0;
        if (ds->findAndGetFloat64(DCM_RescaleSlope, slope).bad() || slope == 0.0 || !std::isfinite(slope))
            slope = 1.0;
        if (ds->findAndGetFloat64(DCM_RescaleIntercept, intercept).bad() || !std::isfinite(intercept))
            intercept = 0.0;
        for (float& v : px.values)
            v = static_cast<float>(v * slope + intercept);
        if (image.photometric.empty())
            image.photometric = "MONOCHROME2";
    } else {
        image.photometric = px.photometric;  // YBR_ICT / YBR_RCT come out as RGB
    }
    image.pixels = std::move(px.values);
}

bool isJpeg2000(const std::string& uid)
{
    // 1.2.840.10008.1.2.4.90-.93 (JPEG 2000), .4.94/.95 (JPIP), .4.201-.203 (HTJ2K).
    const std::string prefix = "1.2.840.10008.1.2.4.";
    if (uid.compare(0, prefix.size(), prefix) != 0)
        return false;
    const std::string rest = uid.substr(prefix.size());
    return rest == "90" || rest == "91" || rest == "92" || rest == "93" || rest == "94" || rest == "95" ||
           rest == "201" || rest == "202" || rest == "203";
}

bool isVideo(const std::string& uid)
{
    // MPEG-2 / MPEG-4 / HEVC: .4.100-.4.108
    const std::string prefix = "1.2.840.10008.1.2.4.10";
    return uid.compare(0, prefix.size(), prefix) == 0;
}

void setRangeWindow(Image& image)
{
    if (image.pixels.empty())
        return;
    const auto [mn, mx] = std::minmax_element(image.pixels.begin(), image.pixels.end());
    image.windowCenter = (static_cast<double>(*mn) + *mx) / 2.0;
    image.windowWidth = std::max(1.0, static_cast<double>(*mx) - *mn);
}

LoadedFile loadOne(const std::string& path)
{
    ensureDcmtkReady();
    checkReadableFile(path);
    if (!plausibleDicomStart(path))
        throw BadInputError(path, "not a DICOM file: no 'DICM' marker, and the data does not start with a DICOM element");
    DcmFileFormat file;
    const OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    // A data set in Implicit VR under a meta header naming a compressed, explicit syntax
    // (DicomRecovery.h): other toolkits read such files, so do we.
    const bool implicitUnderMeta = status.bad() && rereadDataSetAsImplicit(path, file);
    if (status.bad() && !implicitUnderMeta)
        throw BadInputError(path, std::string("not a readable DICOM file: truncated or corrupt (") + status.text() + ")");
    DcmDataset* ds = file.getDataset();
    if (isDicomDirObject(file))
        throw BadInputError(path, "is a DICOMDIR (an index of series), not an image; open it as a DICOMDIR");

    LoadedFile out;
    Image& image = out.image;
    image.sourcePath = path;
    image.format = "dicom";

    std::string xferUid = dicomString(file.getMetaInfo(), DCM_TransferSyntaxUID);
    if (xferUid.empty())
        xferUid = DcmXfer(ds->getOriginalXfer()).getXferID();
    image.transferSyntax = xferUid;
    if (isVideo(xferUid))
        throw BadInputError(path, "MPEG / HEVC video pixel data (transfer syntax " + xferUid + ") is not supported");

    readDicomTags(ds, image.tags, image.patient);
    image.photometric = dicomString(ds, DCM_PhotometricInterpretation);

    Uint16 rows = 0, cols = 0, samples = 1, bitsAllocated = 0, bitsStored = 0, pixelRep = 0;
    if (ds->findAndGetUint16(DCM_Rows, rows).bad() || ds->findAndGetUint16(DCM_Columns, cols).bad())
        throw BadInputError(path, "not a DICOM image (no Rows / Columns)");
    ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
    ds->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    ds->findAndGetUint16(DCM_BitsStored, bitsStored);
    ds->findAndGetUint16(DCM_PixelRepresentation, pixelRep);
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad())
        frames = 1;
    if (rows == 0 || cols == 0 || frames < 1)
        throw BadInputError(path, "absurd dimensions: " + std::to_string(cols) + " x " + std::to_string(rows) +
                                      " pixels, " + std::to_string(frames) + " frames");
    if (samples != 1 && samples != 3)
        throw BadInputError(path, "unsupported SamplesPerPixel " + std::to_string(samples) + " (1 or 3 expected)");
    checkImageSize(path, frames, rows, cols, samples);
    image.bitsStored = bitsStored ? bitsStored : bitsAllocated;
    image.isSigned = pixelRep == 1;

    DcmElement* pixelData = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, pixelData).bad() || pixelData == nullptr)
        throw BadInputError(path, "DICOM file holds no pixel data (not an image object)");
    if (!implicitUnderMeta && !DcmXfer(ds->getOriginalXfer()).isEncapsulated()) {
        // Uncompressed: the value must hold every frame (YBR_*_422 stores 2 samples a pixel).
        const bool subsampled = image.photometric == "YBR_FULL_422" || image.photometric == "YBR_PARTIAL_422";
        const double samplesPerPixel = subsampled ? 2.0 : samples;
        const double need = std::ceil(static_cast<double>(rows) * cols * frames * samplesPerPixel * bitsAllocated / 8.0);
        if (need > 4e12)  // past anything a file holds: the header's sizes are wrong
            throw BadInputError(path, "absurd dimensions: the header describes " + std::to_string(rows) + " x " +
                                          std::to_string(cols) + " pixels x " + std::to_string(frames) + " frames");
        if (static_cast<double>(pixelData->getLength()) < need)
            throw BadInputError(path, "pixel data is truncated: " + std::to_string(pixelData->getLength()) + " of " +
                                          std::to_string(static_cast<long long>(need)) + " bytes");
    }

    if (isJpeg2000(xferUid)) {
        // DCMTK has no JPEG 2000 decoder: the samples come from GDCM (OpenJPEG).
        decodeJpeg2000(path, ds, DcmXfer(xferUid.c_str()).getXfer(), image, rows, cols, frames);  // the meta header's
    } else {
        const bool mono = image.photometric.rfind("MONOCHROME", 0) == 0;
        const bool modalityLut = ds->tagExists(DCM_ModalityLUTSequence, OFTrue) && !ds->tagExists(DCM_RescaleSlope);
        unsigned long flags = 0;
        if (mono && !modalityLut)
            flags |= CIF_IgnoreModalityTransformation;
        const E_TransferSyntax xfer = implicitUnderMeta ? DcmXfer(xferUid.c_str()).getXfer() : ds->getOriginalXfer();
        DicomImage dimg(&file, xfer, flags, 0, 0);
        if (dimg.getStatus() != EIS_Normal)
            throw BadInputError(path, std::string("cannot decode the pixel data (transfer syntax ") + xferUid + ", " +
                                          image.photometric + "): " + DicomImage::getString(dimg.getStatus()));
        const unsigned long decodedFrames = dimg.getFrameCount();
        if (decodedFrames < static_cast<unsigned long>(frames))
            throw BadInputError(path, "pixel data is truncated: " + std::to_string(decodedFrames) + " of " +
                                          std::to_string(frames) + " frames decoded");

        image.slices = frames;
        image.height = rows;
        image.width = cols;
        const std::size_t plane = static_cast<std::size_t>(rows) * cols;
        if (dimg.isMonochrome()) {
            image.channels = 1;
            const DiPixel* inter = dimg.getInterData();
            if (inter == nullptr || inter->getData() == nullptr)
                throw BadInputError(path, "cannot decode the pixel data: no pixel values");
            const std::size_t count = plane * frames;
            if (inter->getCount() < count)
                throw BadInputError(path, "pixel data is truncated: " + std::to_string(inter->getCount()) + " of " +
                                              std::to_string(count) + " pixels");
            double slope = 1.0, intercept = 0.0;
            if (!modalityLut) {
                ds->findAndGetFloat64(DCM_RescaleSlope, slope);
                ds->findAndGetFloat64(DCM_RescaleIntercept, intercept);
                if (slope == 0.0 || !std::isfinite(slope))
                    slope = 1.0;
                if (!std::isfinite(intercept))
                    intercept = 0.0;
            }
            switch (inter->getRepresentation()) {
            case EPR_Uint8: copyMono<Uint8>(inter->getData(), count, slope, intercept, image.pixels); break;
            case EPR_Sint8: copyMono<Sint8>(inter->getData(), count, slope, intercept, image.pixels); break;
            case EPR_Uint16: copyMono<Uint16>(inter->getData(), count, slope, intercept, image.pixels); break;
            case EPR_Sint16: copyMono<Sint16>(inter->getData(), count, slope, intercept, image.pixels); break;
            case EPR_Uint32: copyMono<Uint32>(inter->getData(), count, slope, intercept, image.pixels); break;
            case EPR_Sint32: copyMono<Sint32>(inter->getData(), count, slope, intercept, image.pixels); break;
            }
            if (image.photometric.empty())
                image.photometric = "MONOCHROME2";
        } else {
            // Colour (RGB, YBR_*, PALETTE COLOR): DCMTK converts to RGB, interleaved. Samples
            // come out at their stored depth, so lossless data stays exact (8 bits a sample
            // out would scale a 16-bit RGB image down; palettes give 8 or 16 bits).
            image.channels = 3;
            image.pixels.resize(plane * 3 * frames);
            const bool palette = image.photometric == "PALETTE COLOR";
            const int outBits = palette ? (bitsAllocated > 8 ? 16 : 8) : std::clamp<int>(image.bitsStored, 1, 32);
            for (long f = 0; f < frames; ++f) {
                const void* rgb = dimg.getOutputData(outBits, static_cast<unsigned long>(f), 0);
                if (rgb == nullptr)
                    throw BadInputError(path, "cannot convert frame " + std::to_string(f) + " to RGB");
                float* dst = image.pixels.data() + plane * 3 * f;
                if (outBits <= 8)
                    std::copy_n(static_cast<const Uint8*>(rgb), plane * 3, dst);
                else if (outBits <= 16)
                    std::copy_n(static_cast<const Uint16*>(rgb), plane * 3, dst);
                else
                    std::copy_n(static_cast<const Uint32*>(rgb), plane * 3, dst);
            }
            image.bitsStored = outBits;
        }

    }

    // Display window: the file's first window when it has a width, else the data range.
    Float64 wc = 0, ww = 0;
    if (image.channels == 1 && ds->findAndGetFloat64(DCM_WindowCenter, wc, 0).good() &&
        ds->findAndGetFloat64(DCM_WindowWidth, ww, 0).good() && ww > 0 && std::isfinite(wc) && std::isfinite(ww)) {
        image.windowCenter = wc;
        image.windowWidth = ww;
        out.windowFromTags = true;
    } else if (image.channels == 3) {
        const double top = std::ldexp(1.0, image.bitsStored) - 1.0;  // the full range of the samples
        image.windowCenter = top / 2.0;
        image.windowWidth = top;
    } else {
        setRangeWindow(image);
    }

    // Geometry (LPS, mm).
    Float64 v0 = 0, v1 = 0;
    if ((ds->findAndGetFloat64(DCM_PixelSpacing, v0, 0).good() && ds->findAndGetFloat64(DCM_PixelSpacing, v1, 1).good()) ||
        (ds->findAndGetFloat64(DCM_ImagerPixelSpacing, v0, 0).good() &&
         ds->findAndGetFloat64(DCM_ImagerPixelSpacing, v1, 1).good())) {
        if (v0 > 0 && v1 > 0) {
            image.spacing[1] = v0;  // PixelSpacing is row spacing \ column spacing
            image.spacing[0] = v1;
        }
    }
    Float64 thickness = 0;
    if ((ds->findAndGetFloat64(DCM_SpacingBetweenSlices, thickness).good() ||
         ds->findAndGetFloat64(DCM_SliceThickness, thickness).good()) &&
        thickness > 0)
        image.spacing[2] = thickness;
    double iop[6];
    double ipp[3];
    bool haveIop = true, haveIpp = true;
    for (unsigned long i = 0; i < 6; ++i)
        haveIop = haveIop && ds->findAndGetFloat64(DCM_ImageOrientationPatient, iop[i], i).good();
    for (unsigned long i = 0; i < 3; ++i)
        haveIpp = haveIpp && ds->findAndGetFloat64(DCM_ImagePositionPatient, ipp[i], i).good();
    if (haveIop) {
        const double n[3] = {iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5],
                             iop[0] * iop[4] - iop[1] * iop[3]};
        const double len = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (len > 1e-3) {
            for (int i = 0; i < 6; ++i)
                image.direction[i] = iop[i];
            for (int i = 0; i < 3; ++i)
                image.direction[6 + i] = n[i] / len;
        } else {
            haveIop = false;
        }
    }
    if (haveIpp)
        image.origin = {ipp[0], ipp[1], ipp[2]};
    image.hasGeometry = haveIop && haveIpp;

    Sint32 instance = 0;
    if (ds->findAndGetSint32(DCM_InstanceNumber, instance).good())
        out.instanceNumber = instance;
    return out;
}

}  // namespace

Image loadDicomFile(const std::string& path)
{
    return loadOne(path).image;
}

Image loadDicomSeries(const std::vector<std::string>& files, const std::string& sourcePath, const JobControl* control)
{
    if (files.empty())
        throw BadInputError(sourcePath, "holds no DICOM image files");
    if (files.size() == 1) {
        Image single = loadDicomFile(files.front());
        single.sourcePath = sourcePath;
        return single;
    }
    std::vector<LoadedFile> parts;
    parts.reserve(files.size());
    for (const auto& f : files) {
        if (control)
            control->checkpoint(static_cast<double>(parts.size()) / static_cast<double>(files.size()), "reading the series");
        parts.push_back(loadOne(f));
        const Image& a = parts.front().image;
        const Image& b = parts.back().image;
        if (b.slices != 1)
            throw BadInputError(f, "is a multi-frame file inside a series of " + std::to_string(files.size()) +
                                       " files; open it on its own");
        if (b.width != a.width || b.height != a.height || b.channels != a.channels)
            throw BadInputError(f, "slice size " + std::to_string(b.width) + " x " + std::to_string(b.height) + " x " +
                                       std::to_string(b.channels) + " differs from the series' " +
                                       std::to_string(a.width) + " x " + std::to_string(a.height) + " x " +
                                       std::to_string(a.channels) + " (mixed sizes in one series)");
    }
    checkImageSize(sourcePath, static_cast<long long>(parts.size()), parts.front().image.height,
                   parts.front().image.width, parts.front().image.channels);

    const bool geometric = std::all_of(parts.begin(), parts.end(), [](const LoadedFile& p) { return p.image.hasGeometry; });
    const auto& d0 = parts.front().image.direction;
    std::vector<double> key(parts.size(), 0.0);
    if (geometric)
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const auto& o = parts[i].image.origin;
            key[i] = o[0] * d0[6] + o[1] * d0[7] + o[2] * d0[8];
        }
    std::vector<std::size_t> order(parts.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (geometric && std::abs(key[a] - key[b]) > 1e-4)
            return key[a] < key[b];
        if (parts[a].instanceNumber != parts[b].instanceNumber)
            return parts[a].instanceNumber < parts[b].instanceNumber;
        return parts[a].image.sourcePath < parts[b].image.sourcePath;
    });

    // Two slices at one position are two acquisitions (or a copied file), not a volume.
    if (geometric)
        for (std::size_t k = 1; k < order.size(); ++k)
            if (std::abs(key[order[k]] - key[order[k - 1]]) < 1e-3) {
                const auto name = [&](std::size_t i) { return fs::path(parts[i].image.sourcePath).filename().string(); };
                throw BadInputError(sourcePath, "two slices lie at the same position (" + std::to_string(key[order[k]]) +
                                                    " mm along the slice normal): " + name(order[k - 1]) + " and " +
                                                    name(order[k]) + "; the series holds more than one acquisition");
            }

    Image volume = parts[order.front()].image;  // tags, geometry and facts of the first slice
    volume.sourcePath = sourcePath;
    volume.slices = static_cast<int>(parts.size());
    volume.pixels.clear();
    volume.pixels.reserve(volume.sliceStride() * parts.size());
    for (std::size_t i : order) {
        const auto& px = parts[i].image.pixels;
        volume.pixels.insert(volume.pixels.end(), px.begin(), px.end());
    }
    volume.slicePositions.clear();
    if (geometric) {
        for (std::size_t i : order)
            volume.slicePositions.push_back(key[i]);
        const double extent = volume.slicePositions.back() - volume.slicePositions.front();
        if (extent > 1e-6)
            volume.spacing[2] = extent / static_cast<double>(parts.size() - 1);
    }
    if (!parts[order.front()].windowFromTags && volume.channels == 1)
        setRangeWindow(volume);
    return volume;
}

}  // namespace ei
