#include "models/io/AtomicFile.h"

#include "models/Error.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace ei {

void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write)
{
    namespace fs = std::filesystem;
    const fs::path target(path);
    // Temporary files of this target that a killed writer left behind (older than ten
    // minutes, so a writer still at work keeps its own) go first.
    {
        std::error_code ec;
        const std::string prefix = "." + target.filename().string() + ".tmp";
        const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (name.rfind(prefix, 0) != 0)
                continue;
            const auto age = fs::file_time_type::clock::now() - fs::last_write_time(it->path(), ec);
            if (!ec && age > std::chrono::minutes(10))
                fs::remove(it->path(), ec);
        }
    }
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
        // On disk before it takes the target's name: after a crash or power loss the
        // target is the old file or the whole new one, never a short one.
        const int fd = ::open(tmp.c_str(), O_RDONLY);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
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
