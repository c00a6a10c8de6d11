// Versions from the libraries' own macros (compile time) plus the device and BLAS found
// at run time. See BuildInfo.h.
#include "core/BuildInfo.h"

#include "models/Device.h"

#include <torch/cuda.h>
#include <torch/version.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <itkConfigure.h>
#include <opencv2/core/version.hpp>

#include <QtGlobal>

#include <link.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#define EI_BUILDINFO_STR_INNER(x) #x
#define EI_BUILDINFO_STR(x) EI_BUILDINFO_STR_INNER(x)

namespace ei {

std::string BuildInfo::applicationName()
{
    return "EIView";
}

std::string BuildInfo::applicationVersion()
{
    return EIVIEW_VERSION_STRING;
}

std::vector<ComponentVersion> BuildInfo::components()
{
    std::string qt = QT_VERSION_STR;
    // Qt keeps binary compatibility within 6.x, so the loaded Qt may be newer than the
    // headers; both matter when a display problem is reported.
    if (qt != qVersion())
        qt += std::string(" (runtime ") + qVersion() + ")";
    return {
        {"LibTorch", TORCH_VERSION},
        {"Qt", qt},
        {"DCMTK", OFFIS_DCMTK_VERSION_STRING},
        // ITK_VERSION_STRING holds only major.minor.
        {"ITK", ITK_VERSION_STRING "." EI_BUILDINFO_STR(ITK_VERSION_PATCH)},
        {"OpenCV", CV_VERSION},
    };
}

std::string BuildInfo::deviceSummary()
{
    std::ostringstream out;
    const auto cudaDevices = torch::cuda::device_count();
    if (cudaDevices > 0)
        out << "CUDA (" << cudaDevices << (cudaDevices == 1 ? " device" : " devices") << ")";
    else
        out << "CPU (no CUDA device found)";
    const CpuThreads t = currentCpuThreads();
    out << ", CPU: " << t.intraOp << " LibTorch intra-op";
    if (t.blas > 0)
        out << " + " << t.blas << " OpenBLAS";
    out << (t.intraOp + t.blas == 1 ? " thread" : " threads");
    return out.str();
}

namespace {

// dl_iterate_phdr callback: LibTorch links libblas.so.3, which Debian's alternatives
// resolve to OpenBLAS or the reference BLAS; libopenblas.so.0 may be loaded beside it.
struct LoadedBlas {
    std::string libblas;
    std::string openblas;
};

int findBlas(dl_phdr_info* info, size_t, void* data)
{
    auto* found = static_cast<LoadedBlas*>(data);
    const char* name = info->dlpi_name;
    if (name && std::strstr(name, "libblas.so") && found->libblas.empty())
        found->libblas = name;
    else if (name && std::strstr(name, "openblas") && found->openblas.empty())
        found->openblas = name;
    return 0;
}

}  // namespace

std::string BuildInfo::blasLibrary()
{
    LoadedBlas loaded;
    dl_iterate_phdr(findBlas, &loaded);
    std::string path = loaded.libblas.empty() ? loaded.openblas : loaded.libblas;
    if (path.empty())
        return "unknown";
    if (char* real = realpath(path.c_str(), nullptr)) {
        path = real;
        std::free(real);
    }
    if (path.find("openblas") != std::string::npos)
        return "OpenBLAS (" + path + ")";
    if (path.find("blas") != std::string::npos && path.find("atlas") == std::string::npos)
        return "reference BLAS, slow: install libopenblas0-pthread (" + path + ")";
    return path;
}

std::string BuildInfo::versionReport(const std::string& programName)
{
    std::ostringstream out;
    out << programName << " " << applicationVersion() << "\n";
    for (const auto& c : components())
        out << c.name << ": " << c.version << "\n";
    out << "Device: " << deviceSummary() << "\n";
    out << "BLAS: " << blasLibrary() << "\n";
    return out.str();
}

}  // namespace ei
