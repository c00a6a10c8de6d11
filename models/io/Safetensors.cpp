#include "models/io/Safetensors.h"

#include "models/io/Sha256.h"

#include "models/io/AtomicFile.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ei {
namespace {

// nlohmann's parse errors quote the text read so far ("last read: '...'"): for a damaged
// header that can be kilobytes. The position and the first words say enough.
std::string shortJsonError(const std::exception& e)
{
    std::string what = e.what();
    const auto quote = what.find("last read: '");
    if (quote != std::string::npos && what.size() - quote > 80)
        what = what.substr(0, quote + 12 + 40) + "...'";
    return what.size() > 240 ? what.substr(0, 237) + "..." : what;
}

constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit

struct DtypeInfo {
    const char* name;
    torch::ScalarType type;
    std::size_t itemSize;
};

const DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat, 4}, {"F16", torch::kHalf, 2},  {"BF16", torch::kBFloat16, 2},
    {"F64", torch::kDouble, 8}, {"I64", torch::kLong, 8}, {"I32", torch::kInt, 4},
    {"I16", torch::kShort, 2},  {"I8", torch::kChar, 1},  {"U8", torch::kByte, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* findDtype(const std::string& name)
{
    for (const auto& d : kDtypes)
        if (name == d.name)
            return &d;
    return nullptr;
}

std::uint64_t readLe64(const unsigned char* p)
{
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

}  // namespace

std::string safetensorsDtypeName(torch::ScalarType type)
{
    for (const auto& d : kDtypes)
        if (d.type == type)
            return d.name;
    throw ModelError("", std::string("tensor dtype ") + c10::toString(type) + " cannot be stored in safetensors");
}

SafetensorsFile parseSafetensors(const std::string& bytes, const std::string& source)
{
    using nlohmann::json;
    auto fail = [&](const std::string& problem) -> void { throw ModelError(source, "not a valid safetensors file: " + problem); };

    if (bytes.size() < 8)
        fail("shorter than the 8-byte header length (" + std::to_string(bytes.size()) + " bytes)");
    const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::uint64_t headerLen = readLe64(raw);
    if (headerLen > kMaxHeaderBytes)
        fail("header length " + std::to_string(headerLen) + " exceeds the limit of 100 MB");
    if (headerLen > bytes.size() - 8)
        fail("header length " + std::to_string(headerLen) + " runs past the end of the file (" +
             std::to_string(bytes.size()) + " bytes): truncated?");
    const std::string headerText = bytes.substr(8, headerLen);
    if (headerText.empty() || headerText[0] != '{')
        fail("header does not start with '{'");

    json header;
    try {
        header = json::parse(headerText);
    } catch (const json::exception& e) {
        fail("header is not valid JSON (" + shortJsonError(e) + ")");
    }
    if (!header.is_object())
        fail("header is not a JSON object");

    const std::uint64_t bufferSize = bytes.size() - 8 - headerLen;
    const char* buffer = bytes.data() + 8 + headerLen;

    SafetensorsFile file;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const json& entry = it.value();
        if (name == "__metadata__") {
            if (!entry.is_object())
                fail("__metadata__ is not an object");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string())
                    fail("__metadata__ value '" + m.key() + "' is not a string");
                file.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
            fail("tensor '" + name + "' lacks dtype, shape or data_offsets");
        if (!entry["dtype"].is_string())
            fail("tensor '" + name + "' has a non-string dtype");
        const std::string dtypeName = entry["dtype"].get<std::string>();
        const DtypeInfo* dtype = findDtype(dtypeName);
        if (!dtype)
            fail("tensor '" + name + "' has dtype " + dtypeName + ", which EIView cannot read");

        const json& shapeJson = entry["shape"];
        const json& offsets = entry["data_offsets"];
        if (!shapeJson.is_array() || !offsets.is_array() || offsets.size() != 2)
            fail("tensor '" + name + "' has a malformed shape or data_offsets");
        std::vector<int64_t> shape;
        std::uint64_t numel = 1;
        for (const auto& dim : shapeJson) {
            if (!dim.is_number_unsigned())
                fail("tensor '" + name + "' has a negative or non-integer dimension");
            const std::uint64_t d = dim.get<std::uint64_t>();
            if (d > (1ULL << 40) || (d != 0 && numel > (1ULL << 40) / d))
                fail("tensor '" + name + "' has absurd dimensions");
            numel *= d;
            shape.push_back(static_cast<int64_t>(d));
        }
        if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned())
            fail("tensor '" + name + "' has non-integer data_offsets");
        const std::uint64_t begin = offsets[0].get<std::uint64_t>();
        const std::uint64_t end = offsets[1].get<std::uint64_t>();
        if (begin > end || end > bufferSize)
            fail("tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] lie outside the data buffer of " + std::to_string(bufferSize) + " bytes (truncated file?)");
        if (end - begin != numel * dtype->itemSize)
            fail("tensor '" + name + "' occupies " + std::to_string(end - begin) + " bytes but its shape and dtype " +
                 dtypeName + " need " + std::to_string(numel * dtype->itemSize));
        ranges.emplace_back(begin, end);

        torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(dtype->type));
        if (numel > 0)
            std::memcpy(t.data_ptr(), buffer + begin, end - begin);  // copy: the buffer may be unaligned
        file.tensors.emplace(name, std::move(t));
    }

    std::sort(ranges.begin(), ranges.end());
    std::uint64_t covered = 0;
    for (const auto& [begin, end] : ranges) {
        if (begin < covered)
            fail("two tensors overlap in the data buffer");
        if (begin > covered)
            fail("the data buffer has a hole at byte " + std::to_string(covered));
        covered = end;
    }
    if (covered != bufferSize)
        fail("the data buffer has " + std::to_string(bufferSize - covered) + " trailing bytes that no tensor uses");
    return file;
}

std::string readSafetensorsBytes(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ModelError(path, "cannot open file (missing or unreadable)");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

SafetensorsFile readSafetensors(const std::string& path)
{
    return parseSafetensors(readSafetensorsBytes(path), path);
}

std::map<std::string, std::string> readSafetensorsMetadata(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ModelError(path, "cannot open file (missing or unreadable)");
    unsigned char lenBytes[8];
    if (!in.read(reinterpret_cast<char*>(lenBytes), 8))
        throw ModelError(path, "not a valid safetensors file: shorter than 8 bytes");
    const std::uint64_t headerLen = readLe64(lenBytes);
    if (headerLen > kMaxHeaderBytes)
        throw ModelError(path, "not a valid safetensors file: header length exceeds the limit of 100 MB");
    std::string header(headerLen, '\0');
    if (!in.read(header.data(), static_cast<std::streamsize>(headerLen)))
        throw ModelError(path, "not a valid safetensors file: truncated header");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(header);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(path, "not a valid safetensors file: header is not valid JSON (" + shortJsonError(e) + ")");
    }
    std::map<std::string, std::string> meta;
    if (j.is_object() && j.contains("__metadata__") && j["__metadata__"].is_object())
        for (auto m = j["__metadata__"].begin(); m != j["__metadata__"].end(); ++m)
            if (m.value().is_string())
                meta[m.key()] = m.value().get<std::string>();
    return meta;
}

std::string serializeSafetensors(const std::map<std::string, torch::Tensor>& tensors,
                                 const std::map<std::string, std::string>& metadata)
{
    nlohmann::json header = nlohmann::json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::vector<torch::Tensor> data;
    std::uint64_t offset = 0;
    for (const auto& [name, tensor] : tensors) {  // std::map: sorted by name
        torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
        const std::uint64_t size = static_cast<std::uint64_t>(t.numel()) * t.element_size();
        header[name] = {{"dtype", safetensorsDtypeName(t.scalar_type())},
                        {"shape", t.sizes().vec()},
                        {"data_offsets", {offset, offset + size}}};
        offset += size;
        data.push_back(t);
    }
    std::string headerText = header.dump();
    while ((8 + headerText.size()) % 8 != 0)
        headerText.push_back(' ');
    std::string out;
    out.reserve(8 + headerText.size() + offset);
    std::uint64_t n = headerText.size();
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += headerText;
    for (const auto& t : data)
        out.append(static_cast<const char*>(t.data_ptr()), static_cast<std::size_t>(t.numel()) * t.element_size());
    return out;
}

void writeSafetensors(const std::string& path, const std::map<std::string, torch::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata)
{
    const std::string bytes = serializeSafetensors(tensors, metadata);
    writeFileAtomically(path, bytes);
}

std::string tensorDigest(const std::map<std::string, torch::Tensor>& tensors)
{
    Sha256 h;
    for (const auto& [name, t] : tensors) {
        const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
        std::string head = name + "|" + safetensorsDtypeName(c.scalar_type()) + "|";
        for (auto n : c.sizes())
            head += std::to_string(n) + ",";
        h.update(head + "|");
        h.update(c.data_ptr(), static_cast<std::size_t>(c.numel()) * c.element_size());
    }
    return h.hexDigest();
}

bool checkTensorDigest(const SafetensorsFile& file, const std::string& path)
{
    const auto it = file.metadata.find(kTensorDigestKey);
    if (it == file.metadata.end())
        return false;
    if (tensorDigest(file.tensors) != it->second)
        throw ModelError(path, "the tensor data does not match its SHA-256 digest: the file is damaged (flipped or "
                               "overwritten bytes); use an intact copy");
    return true;
}

}  // namespace ei
