#include "models/io/AtomicFile.h"

#include "models/Error.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace ei {

void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write)
{
    namespace fs = std::filesystem;
    const fs::path target(path);
    std::random_device rd;
    const fs::path tmp = target.parent_path() /
        ("." + target.filename().string() + ".tmp" + std::to_string(rd() % 1000000));
    try {
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            if (!out)
                throw BadInputError(path, "cannot create output file (is the folder writable?)");
            write(out);
            out.flush();
            if (!out)
                throw BadInputError(path, "write failed (disk full?)");
        }
        std::error_code ec;
        fs::rename(tmp, target, ec);
        if (ec)
            throw BadInputError(path, "cannot move the finished file into place: " + ec.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

void writeFileAtomically(const std::string& path, const std::string& bytes)
{
    writeFileAtomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace ei
