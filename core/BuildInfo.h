// What this build of EIView is made of: its own version, the versions of the libraries it
// was compiled against (from their version macros), and the compute device found at run
// time. Shown by `eiview --version` and the About dialog, so that a result can always be
// traced to the software that produced it. Plain strings only: ui/ includes this header,
// and LibTorch / DCMTK / ITK / OpenCV headers stay in BuildInfo.cpp.
#pragma once

#include <string>
#include <vector>

namespace ei {

struct ComponentVersion {
    std::string name;     // "LibTorch", "Qt", "DCMTK", "ITK", "OpenCV"
    std::string version;  // e.g. "1.13.0"; Qt adds "(runtime X)" when the loaded Qt differs
};

class BuildInfo {
public:
    static std::string applicationName();     // "EIView"
    static std::string applicationVersion();  // the CMake project version

    // The libraries in a fixed order: LibTorch, Qt, DCMTK, ITK, OpenCV.
    static std::vector<ComponentVersion> components();

    // The device inference would use with "auto": "CUDA (N devices)" or
    // "CPU (no CUDA device found)", with the CPU thread count.
    static std::string deviceSummary();

    // The BLAS library LibTorch runs on (Debian picks it through alternatives; the
    // reference BLAS is ~50x slower than OpenBLAS, so this is worth seeing), or "unknown".
    static std::string blasLibrary();

    // The multi-line text of `PROGRAM --version`: "PROGRAM VERSION", then one
    // "Name: version" line per component, then "Device:" and "BLAS:".
    static std::string versionReport(const std::string& programName);
};

}  // namespace ei
