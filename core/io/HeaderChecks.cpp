// See HeaderChecks.h.
#include "core/io/HeaderChecks.h"

#include "models/Error.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace ei {

namespace {

constexpr std::size_t kMaxHeaderBytes = 1 << 20;  // no real header is near this
constexpr long long kMaxDim = 1 << 20;

std::string trim(const std::string& t)
{
    const auto a = t.find_first_not_of(" \t\r\n");
    const auto b = t.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : t.substr(a, b - a + 1);
}

std::vector<long long> integers(const std::string& path, const std::string& key, const std::string& text)
{
    std::vector<long long> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word) {
        char* end = nullptr;
        errno = 0;
        const long long v = std::strtoll(word.c_str(), &end, 10);
        if (end == word.c_str() || *end != '\0' || errno != 0)
            throw BadInputError(path, key + " holds '" + word + "', not a whole number");
        out.push_back(v);
    }
    return out;
}

// A data file named by a header: beside it (or absolute), a regular file, not the header.
fs::path dataFileOf(const std::string& header, const std::string& name, const char* format)
{
    fs::path p(name);
    if (p.is_relative())
        p = fs::path(header).parent_path() / p;
    std::error_code ec;
    if (!fs::exists(p, ec))
        throw BadInputError(header, std::string(format) + " data file '" + name + "' does not exist");
    if (!fs::is_regular_file(p, ec))
        throw BadInputError(header, std::string(format) + " data file '" + name + "' is not a regular file");
    if (fs::equivalent(p, header, ec))
        throw BadInputError(header, std::string(format) + " data file '" + name + "' is the header itself");
    return p;
}

// Inflates a zlib / gzip stream from `in` (at most `limit` + 1 output bytes counted):
// returns the inflated size, or -1 when the stream is broken or ends early.
long long inflatedSize(std::istream& in, long long limit, bool gzip)
{
    z_stream z{};
    if (inflateInit2(&z, gzip ? 15 + 32 : 15) != Z_OK)
        return -1;
    std::vector<unsigned char> src(1 << 16), dst(1 << 16);
    long long total = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END && total <= limit) {
        in.read(reinterpret_cast<char*>(src.data()), static_cast<std::streamsize>(src.size()));
        z.next_in = src.data();
        z.avail_in = static_cast<uInt>(in.gcount());
        if (z.avail_in == 0)
            break;  // the stream ended before its end marker
        while (z.avail_in > 0 && rc != Z_STREAM_END && total <= limit) {
            z.next_out = dst.data();
            z.avail_out = static_cast<uInt>(dst.size());
            rc = inflate(&z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END) {
                inflateEnd(&z);
                return -1;
            }
            total += static_cast<long long>(dst.size() - z.avail_out);
        }
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END || total > limit ? total : -1;
}

long long metaElementSize(const std::string& type)
{
    static const std::map<std::string, long long> sizes = {
        {"MET_UCHAR", 1}, {"MET_CHAR", 1},  {"MET_USHORT", 2}, {"MET_SHORT", 2},     {"MET_UINT", 4},
        {"MET_INT", 4},   {"MET_ULONG", 8}, {"MET_LONG", 8},   {"MET_ULONG_LONG", 8}, {"MET_LONG_LONG", 8},
        {"MET_FLOAT", 4}, {"MET_DOUBLE", 8}};
    const auto it = sizes.find(type);
    return it == sizes.end() ? 0 : it->second;
}

}  // namespace

void checkMetaImageHeader(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot be opened");
    std::map<std::string, std::string> keys;
    std::string line, dataFile;
    bool found = false;
    while (static_cast<std::size_t>(in.tellg()) < kMaxHeaderBytes && std::getline(in, line)) {
        if (line.size() > 65536)
            throw BadInputError(path, "MetaImage header line longer than 64 KiB: not a MetaImage header");
        const auto eq = line.find('=');
        if (eq == std::string::npos) {
            if (!trim(line).empty())
                throw BadInputError(path, "MetaImage header line without '=': not a MetaImage header");
            continue;
        }
        const std::string key = trim(line.substr(0, eq));
        keys[key] = trim(line.substr(eq + 1));
        if (key == "ElementDataFile") {
            dataFile = keys[key];
            found = true;
            break;
        }
    }
    if (!found)
        throw BadInputError(path, "MetaImage header has no ElementDataFile line");
    const std::streamoff bodyStart = in.tellg();

    auto need = [&](const char* key) -> const std::string& {
        const auto it = keys.find(key);
        if (it == keys.end() || it->second.empty())
            throw BadInputError(path, std::string("MetaImage header has no ") + key);
        return it->second;
    };
    const auto nd = integers(path, "NDims", need("NDims"));
    if (nd.size() != 1 || nd[0] < 2 || nd[0] > 4)
        throw BadInputError(path, "MetaImage NDims = " + need("NDims") + "; 2 to 4 expected");
    const auto dims = integers(path, "DimSize", need("DimSize"));
    if (static_cast<long long>(dims.size()) != nd[0])
        throw BadInputError(path, "MetaImage DimSize has " + std::to_string(dims.size()) + " values for NDims " +
                                      std::to_string(nd[0]));
    long long voxels = 1;
    for (long long d : dims) {
        if (d < 1 || d > kMaxDim)
            throw BadInputError(path, "MetaImage DimSize " + std::to_string(d) + " is out of range (1 to " +
                                          std::to_string(kMaxDim) + ")");
        voxels *= d;
        if (voxels > (1LL << 33))
            throw BadInputError(path, "absurd dimensions: more than 2^33 voxels");
    }
    const long long element = metaElementSize(need("ElementType"));
    if (element == 0)
        throw BadInputError(path, "MetaImage ElementType '" + need("ElementType") + "' is not supported");
    long long channels = 1;
    if (keys.count("ElementNumberOfChannels")) {
        const auto c = integers(path, "ElementNumberOfChannels", keys["ElementNumberOfChannels"]);
        if (c.size() != 1 || c[0] < 1 || c[0] > 4)
            throw BadInputError(path, "MetaImage ElementNumberOfChannels = " + keys["ElementNumberOfChannels"] + "; 1 to 4 expected");
        channels = c[0];
    }
    const long long bytes = voxels * element * channels;
    if (dataFile == "LIST" || dataFile.find('%') != std::string::npos || dataFile.find(' ') != std::string::npos)
        throw BadInputError(path, "MetaImage data in several files ('" + dataFile + "') is not supported");
    const std::string compressedKey = keys.count("CompressedData") ? keys["CompressedData"] : "False";
    const bool compressed = compressedKey == "True" || compressedKey == "true";

    std::ifstream body;
    long long available = 0;
    std::error_code ec;
    if (dataFile == "LOCAL") {
        body.open(path, std::ios::binary);
        body.seekg(bodyStart);
        available = static_cast<long long>(fs::file_size(path, ec)) - bodyStart;
    } else {
        const fs::path data = dataFileOf(path, dataFile, "MetaImage");
        body.open(data, std::ios::binary);
        available = static_cast<long long>(fs::file_size(data, ec));
    }
    if (!compressed) {
        if (available < bytes)
            throw BadInputError(path, "MetaImage data is truncated: " + std::to_string(std::max(0LL, available)) + " of " +
                                          std::to_string(bytes) + " bytes");
        if (available > bytes)
            throw BadInputError(path, "MetaImage data holds " + std::to_string(available) + " bytes, " +
                                          std::to_string(available - bytes) + " more than the header describes");
        return;
    }
    if (keys.count("CompressedDataSize")) {
        const auto c = integers(path, "CompressedDataSize", keys["CompressedDataSize"]);
        if (c.size() != 1 || c[0] < 1)
            throw BadInputError(path, "MetaImage CompressedDataSize = " + keys["CompressedDataSize"] + " is not a size");
        if (c[0] > available)
            throw BadInputError(path, "MetaImage compressed data is truncated: " + std::to_string(std::max(0LL, available)) +
                                          " of " + std::to_string(c[0]) + " bytes");
    }
    const long long inflated = inflatedSize(body, bytes, false);
    if (inflated != bytes)
        throw BadInputError(path, inflated < 0 ? "MetaImage compressed data does not inflate (damaged or cut short)"
                                               : "MetaImage compressed data inflates to " + std::to_string(inflated) +
                                                     " bytes, the header describes " + std::to_string(bytes));
}

void checkNiftiHeader(const std::string& path)
{
    gzFile file = gzopen(path.c_str(), "rb");
    if (file == nullptr)
        throw BadInputError(path, "cannot be opened");
    unsigned char h[348];
    const int got = gzread(file, h, sizeof h);
    if (got != static_cast<int>(sizeof h)) {
        gzclose(file);
        throw BadInputError(path, "NIfTI header is truncated (" + std::to_string(std::max(0, got)) + " of 348 bytes)");
    }
    // NIfTI-1 by sizeof_hdr (348) or by its magic: ITK's nifti1_io reads a file whose
    // sizeof_hdr is damaged when the magic is there (found by fuzz/volume_fuzzer), taking
    // the byte order from dim[0] as it does.
    const bool littleSize = h[0] == 0x5c && h[1] == 0x01 && h[2] == 0 && h[3] == 0;
    const bool bigSize = h[0] == 0 && h[1] == 0 && h[2] == 0x01 && h[3] == 0x5c;
    const bool magic = std::memcmp(h + 344, "n+1", 4) == 0 || std::memcmp(h + 344, "ni1", 4) == 0;
    if (!littleSize && !bigSize && !magic) {
        gzclose(file);
        return;  // not NIfTI-1 (NIfTI-2 and others are judged by the loader)
    }
    const int littleDim0 = h[40] | (h[41] << 8);
    const bool big = bigSize || (!littleSize && !(littleDim0 >= 1 && littleDim0 <= 7));
    auto i16 = [&](int at) { return static_cast<std::int16_t>(big ? (h[at] << 8) | h[at + 1] : (h[at + 1] << 8) | h[at]); };
    auto f32 = [&](int at) {
        std::uint32_t bits = 0;
        for (int b = 0; b < 4; ++b)
            bits |= static_cast<std::uint32_t>(h[at + (big ? 3 - b : b)]) << (8 * b);
        float v;
        std::memcpy(&v, &bits, 4);
        return v;
    };
    const float voxOffset = f32(108);
    const bool single = std::memcmp(h + 344, "n+1", 4) == 0;
    auto fail = [&](const std::string& problem) {
        gzclose(file);
        throw BadInputError(path, problem);
    };
    const int ndim = i16(40);
    if (ndim < 1 || ndim > 7)
        fail("NIfTI dim[0] = " + std::to_string(ndim) + "; 1 to 7 expected");
    double voxels = 1;
    for (int d = 1; d <= ndim; ++d) {
        const int n = i16(40 + 2 * d);
        if (n < 1)
            fail("NIfTI dim[" + std::to_string(d) + "] = " + std::to_string(n) + "; at least 1 expected");
        voxels *= n;
    }
    // datatype -> bytes per voxel (NIfTI-1 nifti1.h)
    static const std::map<int, int> sizes = {{2, 1},   {4, 2},   {8, 4},   {16, 4},  {32, 8},  {64, 8},  {128, 3},
                                             {256, 1}, {512, 2}, {768, 4}, {1024, 8}, {1280, 8}, {1536, 16}, {1792, 16},
                                             {2048, 32}, {2304, 4}};
    const int datatype = i16(70), bitpix = i16(72);
    const auto size = sizes.find(datatype);
    if (size == sizes.end())
        fail("NIfTI datatype " + std::to_string(datatype) + " is unknown");
    if (bitpix != size->second * 8)
        fail("NIfTI bitpix " + std::to_string(bitpix) + " contradicts datatype " + std::to_string(datatype) + " (" +
             std::to_string(size->second * 8) + " bits)");
    if ((datatype == 128 || datatype == 2304) && ndim >= 4 && i16(48) > 1)
        fail("4-D colour NIfTI (" + std::to_string(i16(48)) + " RGB volumes) is not supported");
    // The geometry ITK turns into a direction matrix by an SVD in float: a NaN or an
    // infinity there ends in vnl's abort(), values near FLT_MAX overflow inside it and it
    // never converges (both found by fuzz/volume_fuzzer). No scanner's geometry comes near
    // a kilometre or a quaternion component beyond 1.
    auto requirePlausible = [&](const char* field, int at, int count, double limit) {
        for (int k = 0; k < count; ++k) {
            const float v = f32(at + 4 * k);
            if (!std::isfinite(v))
                fail(std::string("NIfTI ") + field + " holds a non-finite value (NaN or infinity)");
            if (std::abs(v) > limit)
                fail(std::string("NIfTI ") + field + " holds an implausible value (" + std::to_string(v) + ")");
        }
    };
    constexpr double kMillimetres = 1e6;  // a kilometre
    requirePlausible("pixdim", 76, ndim + 1, kMillimetres);
    if (i16(252) != 0) {  // qform_code: the quaternion and offsets are used
        requirePlausible("qform quaternion (quatern_b/c/d)", 256, 3, 1.01);
        requirePlausible("qform offset (qoffset_x/y/z)", 268, 3, kMillimetres);
    }
    if (i16(254) != 0)  // sform_code: the affine rows are used
        requirePlausible("sform (srow_x/y/z)", 280, 12, kMillimetres);
    if (!single) {
        gzclose(file);
        return;  // a .hdr / .img pair: the data is in the other file
    }
    if (!(voxOffset >= 352.0f) || voxOffset > 1e9f)
        fail("NIfTI vox_offset " + std::to_string(voxOffset) + " is out of range (at least 352)");
    const double needed = static_cast<double>(voxOffset) + voxels * size->second;
    double have = sizeof h;
    std::vector<char> chunk(1 << 20);
    int n = 0;
    while (have < needed && (n = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
        have += n;
    gzclose(file);
    if (n < 0)
        throw BadInputError(path, "NIfTI data does not inflate (damaged gzip stream)");
    if (have < needed)
        throw BadInputError(path, "NIfTI data is truncated: " + std::to_string(static_cast<long long>(have)) + " of " +
                                      std::to_string(static_cast<long long>(needed)) + " bytes");
}

void checkNrrdHeader(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::string line;
    if (!std::getline(in, line) || line.rfind("NRRD", 0) != 0)
        return;  // not a NRRD header: the loader says so
    std::map<std::string, std::string> keys;
    while (static_cast<std::size_t>(in.tellg()) < kMaxHeaderBytes && std::getline(in, line)) {
        if (trim(line).empty())
            break;  // the blank line before an attached body
        if (line[0] == '#')
            continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos)
            continue;
        std::string key = trim(line.substr(0, colon));
        std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        keys[key] = trim(line.substr(colon + 1 + (line.size() > colon + 1 && line[colon + 1] == '=' ? 1 : 0)));
    }
    const auto file = keys.count("data file") ? keys["data file"] : keys.count("datafile") ? keys["datafile"] : std::string();
    if (file.empty())
        return;
    if (file.find('%') != std::string::npos || file.rfind("LIST", 0) == 0 || file.find(' ') != std::string::npos)
        throw BadInputError(path, "NRRD data in several files ('" + file + "') is not supported");
    const fs::path data = dataFileOf(path, file, "NRRD");
    if (keys["encoding"] != "raw" || keys.count("byte skip") || keys.count("byteskip") || keys.count("line skip") ||
        keys.count("lineskip"))
        return;
    static const std::map<std::string, long long> sizes = {
        {"uchar", 1},  {"unsigned char", 1}, {"uint8", 1},  {"uint8_t", 1}, {"signed char", 1}, {"char", 1},
        {"int8", 1},   {"int8_t", 1},        {"short", 2},  {"int16", 2},   {"ushort", 2},      {"uint16", 2},
        {"unsigned short", 2}, {"int", 4},   {"int32", 4},  {"uint", 4},    {"uint32", 4},      {"unsigned int", 4},
        {"float", 4},  {"double", 8},        {"longlong", 8}, {"int64", 8}, {"ulonglong", 8},   {"uint64", 8}};
    const auto type = sizes.find(keys["type"]);
    if (type == sizes.end())
        return;
    long long voxels = 1;
    for (long long d : integers(path, "sizes", keys["sizes"]))
        voxels *= std::max(1LL, d);
    std::error_code ec;
    const long long have = static_cast<long long>(fs::file_size(data, ec));
    if (have != voxels * type->second)
        throw BadInputError(path, "NRRD data file '" + file + "' holds " + std::to_string(have) + " bytes; the header describes " +
                                      std::to_string(voxels * type->second));
}

}  // namespace ei
