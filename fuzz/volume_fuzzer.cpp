// libFuzzer target: volumes as the viewer opens them (core/io/ImageLoader), all the way
// through: the header checks, ITK's MetaImage / NIfTI / NRRD readers, the MGH / MGZ
// reader, reorientation to the canonical plane and the non-finite pixel check. The first
// byte picks the file name's extension (which decides the reader where the content has
// no magic number); the rest is the file. Every outcome but ei::Error (a clear refusal)
// is a finding: a crash, a sanitizer report, another exception escaping, a hang
// (-timeout) or a memory blow-up (-rss_limit_mb).
#include "core/io/ImageLoader.h"
#include "fuzz/FuzzFile.h"
#include "models/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    static const char* const extensions[] = {".mha", ".nii", ".nii.gz", ".nrrd", ".mgh", ".mgz"};
    const std::string path = ei::fuzz::writeInput(data + 1, size - 1, extensions[data[0] % 6]);
    try {
        (void)ei::loadImage(path);
    } catch (const ei::Error&) {
    }
    return 0;
}
