// libFuzzer target: the volume header checks that run before ITK (core/io/HeaderChecks):
// MetaImage, NIfTI-1 and NRRD. The first byte picks the format; the rest is the file.
// Every outcome but ei::Error (a clear refusal) is a finding: a crash, a sanitizer
// report, a hang (-timeout) or a memory blow-up (-rss_limit_mb).
#include "core/io/HeaderChecks.h"
#include "fuzz/FuzzFile.h"
#include "models/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    static const char* const extensions[] = {".mha", ".nii", ".nhdr"};
    const int kind = data[0] % 3;
    const std::string path = ei::fuzz::writeInput(data + 1, size - 1, extensions[kind]);
    try {
        if (kind == 0)
            ei::checkMetaImageHeader(path);
        else if (kind == 1)
            ei::checkNiftiHeader(path);
        else
            ei::checkNrrdHeader(path);
    } catch (const ei::Error&) {
    }
    return 0;
}
