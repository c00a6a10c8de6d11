#include "models/io/NpyFile.h"

#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace ei {

std::int64_t NpyArray::numel() const
{
    std::int64_t n = 1;
    for (auto d : shape)
        n *= d;
    return n;
}

namespace {

template <typename T>
void convert(const char* src, std::int64_t n, bool swap, std::vector<float>& out)
{
    out.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
        unsigned char b[sizeof(T)];
        std::memcpy(b, src + i * sizeof(T), sizeof(T));
        if (swap)
            for (std::size_t k = 0; k < sizeof(T) / 2; ++k)
                std::swap(b[k], b[sizeof(T) - 1 - k]);
        T v;
        std::memcpy(&v, b, sizeof(T));
        out[static_cast<std::size_t>(i)] = static_cast<float>(v);
    }
}

}  // namespace

NpyArray readNpy(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot open file (missing or unreadable)");
    // Only the header is read first: its shape decides how many bytes follow, checked
    // against the file's size before anything is allocated (a sparse 7 GB file with a
    // small shape, or trailing data, is refused without reading it).
    in.seekg(0, std::ios::end);
    const auto fileSize = static_cast<std::uint64_t>(std::max<std::streamoff>(0, in.tellg()));
    in.seekg(0);
    std::string bytes(static_cast<std::size_t>(std::min<std::uint64_t>(fileSize, 12)), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    auto fail = [&](const std::string& problem) { return BadInputError(path, "not a readable .npy array: " + problem); };
    auto readHeader = [&](std::size_t end) {  // extends `bytes` to the first `end` bytes of the file
        if (end > fileSize || end > (1u << 20) + 12)
            return;
        const std::size_t have = bytes.size();
        bytes.resize(end);
        in.read(bytes.data() + have, static_cast<std::streamsize>(end - have));
    };

    if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
        throw fail("missing the \\x93NUMPY magic");
    const int major = static_cast<unsigned char>(bytes[6]);
    std::size_t headerLen = 0, headerStart = 0;
    if (major == 1) {
        headerLen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
        headerStart = 10;
    } else if (major == 2 || major == 3) {
        if (bytes.size() < 12)
            throw fail("truncated header");
        headerLen = 0;
        for (int i = 3; i >= 0; --i)
            headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[8 + i]);
        headerStart = 12;
    } else {
        throw fail("unsupported format version " + std::to_string(major));
    }
    readHeader(headerStart + headerLen);
    if (headerStart + headerLen > bytes.size())
        throw fail("header runs past the end of the file");
    const std::string header = bytes.substr(headerStart, headerLen);

    std::smatch m;
    if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([<>|=])([a-z])(\d+)')")))
        throw fail("header has no simple 'descr' (structured or object arrays are not supported)");
    const char order = m[1].str()[0];
    const std::string dtype = m[2].str() + m[3].str();
    if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)")))
        throw fail("Fortran-ordered arrays are not supported (save with np.ascontiguousarray)");
    std::smatch sm;
    if (!std::regex_search(header, sm, std::regex(R"('shape'\s*:\s*\(([^)]*)\))")))
        throw fail("header has no 'shape'");

    NpyArray array;
    array.dtype = dtype;
    const std::string dims = sm[1].str();
    std::regex num(R"(\d+)");
    std::uint64_t numel = 1;
    for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it) {
        // More than 12 digits is past any limit below (and past what stoull holds: found by
        // the fuzzer, it escaped as std::out_of_range).
        if (it->str().size() > 12)
            throw fail("absurd dimensions (" + dims.substr(0, 60) + ")");
        const std::uint64_t d = std::stoull(it->str());
        if (d > (1ULL << 40) || (d != 0 && numel > (1ULL << 34) / d))
            throw fail("absurd dimensions (" + dims + ")");
        numel *= d;
        array.shape.push_back(static_cast<std::int64_t>(d));
    }

    if (m[3].str().size() > 2)
        throw fail("unsupported dtype '" + dtype.substr(0, 20) + "'");
    const std::size_t item = static_cast<std::size_t>(std::stoi(m[3].str()));
    const std::size_t dataStart = headerStart + headerLen;
    const std::uint64_t dataBytes = fileSize - dataStart;
    if (dataBytes < numel * item)
        throw fail("data is truncated: " + std::to_string(dataBytes) + " bytes for " + std::to_string(numel) +
                   " values of " + std::to_string(item) + " bytes");
    if (dataBytes > numel * item)
        throw fail("holds " + std::to_string(dataBytes - numel * item) + " bytes after the array's " +
                   std::to_string(numel) + " values (trailing data)");
    std::string data(static_cast<std::size_t>(numel * item), '\0');
    in.seekg(static_cast<std::streamoff>(dataStart));
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    if (static_cast<std::size_t>(in.gcount()) != data.size())
        throw fail("data could not be read in full");
    const bool swap = order == '>';  // host is little endian
    const char* src = data.data();
    const auto n = static_cast<std::int64_t>(numel);
    if (dtype == "f4") convert<float>(src, n, swap, array.values);
    else if (dtype == "f8") convert<double>(src, n, swap, array.values);
    else if (dtype == "f2") throw fail("float16 arrays are not supported");
    else if (dtype == "u1" || dtype == "b1") convert<std::uint8_t>(src, n, false, array.values);
    else if (dtype == "i1") convert<std::int8_t>(src, n, false, array.values);
    else if (dtype == "i2") convert<std::int16_t>(src, n, swap, array.values);
    else if (dtype == "u2") convert<std::uint16_t>(src, n, swap, array.values);
    else if (dtype == "i4") convert<std::int32_t>(src, n, swap, array.values);
    else if (dtype == "u4") convert<std::uint32_t>(src, n, swap, array.values);
    else if (dtype == "i8") convert<std::int64_t>(src, n, swap, array.values);
    else if (dtype == "u8") convert<std::uint64_t>(src, n, swap, array.values);
    else throw fail("unsupported dtype '" + dtype + "'");
    return array;
}

namespace {

void writeNpyBytes(const std::string& path, const std::vector<std::int64_t>& shape, const char* descr, const void* data,
                   std::size_t itemSize)
{
    // numpy's tuple repr: "()", "(5,)", "(2, 3)".
    std::string dims;
    std::int64_t n = 1;
    for (std::size_t i = 0; i < shape.size(); ++i) {
        dims += (i ? ", " : "") + std::to_string(shape[i]);
        n *= shape[i];
    }
    if (shape.size() == 1)
        dims += ",";
    std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    while ((10 + header.size() + 1) % 64 != 0)
        header.push_back(' ');
    header.push_back('\n');
    std::string out = "\x93NUMPY";
    out.push_back('\x01');
    out.push_back('\x00');
    out.push_back(static_cast<char>(header.size() & 0xff));
    out.push_back(static_cast<char>((header.size() >> 8) & 0xff));
    out += header;
    out.append(static_cast<const char*>(data), static_cast<std::size_t>(n) * itemSize);
    writeFileAtomically(path, out);
}

}  // namespace

void writeNpy(const std::string& path, const std::vector<std::int64_t>& shape, const float* data)
{
    writeNpyBytes(path, shape, "<f4", data, sizeof(float));
}

void writeNpyU8(const std::string& path, const std::vector<std::int64_t>& shape, const std::uint8_t* data)
{
    writeNpyBytes(path, shape, "|u1", data, 1);
}

}  // namespace ei
