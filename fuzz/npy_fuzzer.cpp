// libFuzzer target: the .npy reader (models/io/NpyFile), header and data.
#include "fuzz/FuzzFile.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = ei::fuzz::writeInput(data, size, ".npy");
    try {
        const ei::NpyArray a = ei::readNpy(path);
        (void)a;
    } catch (const ei::Error&) {
    }
    return 0;
}
