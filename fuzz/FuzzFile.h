// Shared by the fuzz targets: the parsers under test read files, so each input is
// written to a per-process file in /dev/shm (memory, not disk) with a chosen extension.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace ei::fuzz {

inline std::string writeInput(const std::uint8_t* data, std::size_t size, const std::string& extension)
{
    const std::string path = "/dev/shm/eiview-fuzz-" + std::to_string(::getpid()) + extension;
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(data, 1, size, f);
        std::fclose(f);
    }
    return path;
}

}  // namespace ei::fuzz
