// libFuzzer target: a DICOM file as the viewer opens it (core/io/ImageLoader): DCMTK's
// parser and decoders (RLE, JPEG, JPEG-LS), the GDCM fallback (JPEG 2000), the pixel
// modules (photometric interpretations, planar configuration, palettes, rescale), the
// DICOMDIR reader, the tag browser's element list, and DICOM SEG read onto an image.
// The first byte picks the entry (even: open the file, odd: read it as a SEG onto a
// 4-slice 64 x 64 volume); the rest is the file. Every outcome but ei::Error (a clear
// refusal) is a finding: a crash, a sanitizer report, another exception escaping, a
// hang (-timeout) or a memory blow-up (-rss_limit_mb).
#include "core/io/DicomSeg.h"
#include "core/io/ImageLoader.h"
#include "fuzz/FuzzFile.h"
#include "models/Error.h"

namespace {

ei::Image segTarget()
{
    ei::Image target;
    target.slices = 4;
    target.height = 64;
    target.width = 64;
    target.channels = 1;
    target.pixels.assign(4 * 64 * 64, 0.0f);
    target.hasGeometry = true;
    target.slicePositions = {0, 1, 2, 3};
    return target;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const bool seg = (data[0] & 1) != 0;
    const std::string path = ei::fuzz::writeInput(data + 1, size - 1, ".dcm");
    try {
        if (seg) {
            static const ei::Image target = segTarget();
            (void)ei::loadDicomSegOnto(path, target);
        } else {
            (void)ei::loadImage(path);
        }
    } catch (const ei::Error&) {
    }
    return 0;
}
