// libFuzzer target: PyTorch .pth checkpoints as `import-ei` reads them
// (models/import/PthReader: the zip container, the pickle machine, storages).
#include "models/Error.h"
#include "models/import/PthReader.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    try {
        (void)ei::parsePthStateDict(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pth");
    } catch (const ei::Error&) {
    }
    return 0;
}
