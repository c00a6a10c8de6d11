// See DicomGdcm.h.
#include "core/io/DicomGdcm.h"

#include "core/io/SampleCopy.h"
#include "models/Error.h"

#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmPixelFormat.h>
#include <gdcmTrace.h>

#include <cstring>
#include <sstream>

namespace ei {

DecodedPixels decodeWithGdcm(const std::string& file, const std::string& path)
{
    // GDCM prints warnings to stderr (with file paths); the problems that matter come back
    // as exceptions naming the file.
    gdcm::Trace::SetWarning(false);
    gdcm::Trace::SetDebug(false);
    gdcm::Trace::SetError(false);
    gdcm::ImageReader reader;
    std::istringstream stream(file);
    reader.SetStream(stream);
    if (!reader.Read())
        throw BadInputError(path, "GDCM cannot read the file's JPEG 2000 pixel data");
    const gdcm::Image& img = reader.GetImage();
    const unsigned int* dims = img.GetDimensions();
    const gdcm::PixelFormat pf = img.GetPixelFormat();
    DecodedPixels out;
    out.cols = static_cast<int>(dims[0]);
    out.rows = static_cast<int>(dims[1]);
    out.frames = img.GetNumberOfDimensions() > 2 ? static_cast<int>(dims[2]) : 1;
    out.samples = pf.GetSamplesPerPixel();
    if (out.samples != 1 && out.samples != 3)
        throw BadInputError(path, "JPEG 2000 data with " + std::to_string(out.samples) + " samples per pixel");
    const unsigned long length = img.GetBufferLength();
    const std::size_t count = static_cast<std::size_t>(out.rows) * out.cols * out.frames * out.samples;
    const unsigned bytes = pf.GetBitsAllocated() / 8;
    if (bytes == 0 || length < count * bytes)
        throw BadInputError(path, "the JPEG 2000 data decodes to " + std::to_string(length) + " bytes, " +
                                      std::to_string(count * (bytes ? bytes : 1)) + " expected");
    std::vector<char> buffer(length);
    if (!img.GetBuffer(buffer.data()))
        throw BadInputError(path, "the JPEG 2000 data does not decode (damaged or cut short)");
    const bool isSigned = pf.GetPixelRepresentation() == 1;
    switch (bytes) {
    case 1: isSigned ? samplesToFloat<std::int8_t>(buffer.data(), count, out.values) : samplesToFloat<std::uint8_t>(buffer.data(), count, out.values); break;
    case 2: isSigned ? samplesToFloat<std::int16_t>(buffer.data(), count, out.values) : samplesToFloat<std::uint16_t>(buffer.data(), count, out.values); break;
    case 4: isSigned ? samplesToFloat<std::int32_t>(buffer.data(), count, out.values) : samplesToFloat<std::uint32_t>(buffer.data(), count, out.values); break;
    default: throw BadInputError(path, "JPEG 2000 data with " + std::to_string(pf.GetBitsAllocated()) + " bits allocated");
    }
    // Colour planes one after the other: interleave.
    if (out.samples == 3 && img.GetPlanarConfiguration() == 1) {
        const std::size_t plane = static_cast<std::size_t>(out.rows) * out.cols;
        std::vector<float> inter(out.values.size());
        for (int f = 0; f < out.frames; ++f)
            for (std::size_t i = 0; i < plane; ++i)
                for (int c = 0; c < 3; ++c)
                    inter[(f * plane + i) * 3 + c] = out.values[(f * 3 + c) * plane + i];
        out.values.swap(inter);
    }
    std::string pi = img.GetPhotometricInterpretation().GetString() ? img.GetPhotometricInterpretation().GetString() : "";
    while (!pi.empty() && (pi.back() == ' ' || pi.back() == '\0'))
        pi.pop_back();  // GDCM keeps DICOM's even-length padding ("RGB ")
    out.photometric = pi.rfind("YBR_ICT", 0) == 0 || pi.rfind("YBR_RCT", 0) == 0 ? "RGB" : pi;
    return out;
}

}  // namespace ei
