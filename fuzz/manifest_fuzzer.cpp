// libFuzzer target: the data-set manifest parser (core/data/Manifest): CSV quoting,
// labels, splits, the class and typo checks. Files named in it do not exist here, which
// the parser reports as problems like any other.
#include "core/data/Manifest.h"
#include "fuzz/FuzzFile.h"
#include "models/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string path = ei::fuzz::writeInput(data, size, ".csv");
    try {
        const ei::Manifest m = ei::Manifest::read(path);
        (void)m.problems().size();
    } catch (const ei::Error&) {
    }
    return 0;
}
