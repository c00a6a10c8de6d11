// Writes a file through a temporary sibling and renames it into place, so that a crash
// or an error never leaves a half-written output (ARCHITECTURE.md, "Rules").
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace ei {

// Calls write(stream) on a temporary file next to `path`, flushes it, then renames it
// onto `path`. On any failure the temporary file is removed and ei::Error is thrown
// (BadInputError naming `path`); `path` is then left as it was.
void writeFileAtomically(const std::string& path, const std::function<void(std::ostream&)>& write);

// Convenience for small text/binary blobs.
void writeFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace ei
