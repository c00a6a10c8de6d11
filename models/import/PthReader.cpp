// torch.save zip + protocol-2 pickle reader (see PthReader.h). Layout of the file, as
// PyTorch writes it: a zip archive whose records are stored uncompressed under one
// top-level folder: `<stem>/data.pkl` (the pickle), `<stem>/data/<key>` (one raw
// little-endian storage per key) and `<stem>/version`. In the pickle every tensor is
// REDUCE(torch._utils._rebuild_tensor_v2, (BINPERSID(('storage', torch.<T>Storage, key,
// location, numel)), offset, size, stride, requires_grad, hooks)).
#include "models/import/PthReader.h"

#include "models/Error.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <unordered_map>
#include <vector>

namespace ei {

namespace {

// ---------------------------------------------------------------- zip container

struct ZipRecord {
    std::uint64_t dataOffset = 0;  // where the stored bytes start in the file
    std::uint64_t size = 0;
};

class ZipArchive {
public:
    ZipArchive(const std::string& bytes, const std::string& source) : bytes_(bytes), source_(source) { parse(); }

    const std::map<std::string, ZipRecord>& records() const { return records_; }

    std::string_view contents(const ZipRecord& r) const { return std::string_view(bytes_).substr(r.dataOffset, r.size); }

private:
    [[noreturn]] void fail(const std::string& problem) const { throw ModelError(source_, "corrupt zip archive: " + problem); }

    std::uint64_t le(std::uint64_t pos, int n) const
    {
        if (pos > bytes_.size() || static_cast<std::uint64_t>(n) > bytes_.size() - pos)
            fail("a zip structure runs past the end of the file (truncated?)");
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | static_cast<unsigned char>(bytes_[pos + i]);
        return v;
    }

    void parse()
    {
        // End of central directory: 22 bytes plus a comment of at most 65535 bytes.
        const std::uint64_t size = bytes_.size();
        if (size < 22)
            fail("file too short for a zip directory");
        std::uint64_t eocd = UINT64_MAX;
        const std::uint64_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
        for (std::uint64_t pos = size - 22 + 1; pos-- > lowest;) {
            if (le(pos, 4) == 0x06054b50) {
                eocd = pos;
                break;
            }
        }
        if (eocd == UINT64_MAX)
            fail("no end-of-central-directory record (truncated file?)");
        std::uint64_t count = le(eocd + 10, 2);
        std::uint64_t dirSize = le(eocd + 12, 4);
        std::uint64_t dirOffset = le(eocd + 16, 4);
        if (count == 0xffff || dirSize == 0xffffffff || dirOffset == 0xffffffff) {
            // ZIP64: the locator sits right before the classic record.
            if (eocd < 20 || le(eocd - 20, 4) != 0x07064b50)
                fail("zip64 directory locator missing");
            const std::uint64_t rec = le(eocd - 20 + 8, 8);
            if (le(rec, 4) != 0x06064b50)
                fail("zip64 end-of-central-directory record missing");
            count = le(rec + 32, 8);
            dirSize = le(rec + 40, 8);
            dirOffset = le(rec + 48, 8);
        }
        if (dirOffset > size || dirSize > size - dirOffset)
            fail("central directory lies outside the file");
        if (count > dirSize / 46 + 1)
            fail("central directory entry count does not fit its size");

        std::uint64_t pos = dirOffset;
        for (std::uint64_t i = 0; i < count; ++i) {
            if (le(pos, 4) != 0x02014b50)
                fail("bad central directory entry signature at entry " + std::to_string(i));
            const auto method = le(pos + 10, 2);
            std::uint64_t compressed = le(pos + 20, 4);
            std::uint64_t uncompressed = le(pos + 24, 4);
            const auto nameLen = le(pos + 28, 2);
            const auto extraLen = le(pos + 30, 2);
            const auto commentLen = le(pos + 32, 2);
            std::uint64_t localOffset = le(pos + 42, 4);
            if (pos + 46 + nameLen + extraLen + commentLen > size)
                fail("central directory entry " + std::to_string(i) + " runs past the end of the file");
            const std::string name = bytes_.substr(pos + 46, nameLen);
            // ZIP64 extra field (id 1): the 64-bit values replace the saturated ones, in order.
            std::uint64_t extra = pos + 46 + nameLen;
            const std::uint64_t extraEnd = extra + extraLen;
            while (extra + 4 <= extraEnd) {
                const auto id = le(extra, 2);
                const auto len = le(extra + 2, 2);
                if (extra + 4 + len > extraEnd)
                    fail("bad extra field in entry '" + name + "'");
                if (id == 1) {
                    std::uint64_t q = extra + 4;
                    auto take = [&](std::uint64_t& field) {
                        if (field != 0xffffffff)
                            return;
                        if (q + 8 > extra + 4 + len)
                            fail("short zip64 extra field in entry '" + name + "'");
                        field = le(q, 8);
                        q += 8;
                    };
                    take(uncompressed);
                    take(compressed);
                    take(localOffset);
                }
                extra += 4 + len;
            }
            if (method != 0)
                fail("record '" + name + "' is compressed (method " + std::to_string(method) +
                     "); torch.save writes stored records");
            if (compressed != uncompressed)
                fail("record '" + name + "' has different stored and real sizes");
            if (le(localOffset, 4) != 0x04034b50)
                fail("bad local header for record '" + name + "'");
            const std::uint64_t data = localOffset + 30 + le(localOffset + 26, 2) + le(localOffset + 28, 2);
            if (data > size || compressed > size - data)
                fail("record '" + name + "' runs past the end of the file (truncated?)");
            records_[name] = ZipRecord{data, compressed};
            pos += 46 + nameLen + extraLen + commentLen;
        }
    }

    const std::string& bytes_;
    std::string source_;
    std::map<std::string, ZipRecord> records_;
};

// ---------------------------------------------------------------- pickle machine

struct PyObject;
using PyRef = std::shared_ptr<PyObject>;

struct PyObject {
    enum class Type { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Tensor, Storage };
    Type type = Type::None;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;  // String; Global as "module.name"; Storage key
    std::vector<PyRef> items;                          // Tuple, List
    std::vector<std::pair<PyRef, PyRef>> entries;      // Dict (insertion order)
    torch::Tensor tensor;                              // Tensor, Storage (flat, its dtype)

    static PyRef make(Type t)
    {
        auto o = std::make_shared<PyObject>();
        o->type = t;
        return o;
    }
};

struct StorageType {
    const char* name;
    torch::ScalarType dtype;
};
const StorageType kStorageTypes[] = {
    {"torch.FloatStorage", torch::kFloat},   {"torch.DoubleStorage", torch::kDouble},
    {"torch.HalfStorage", torch::kHalf},     {"torch.BFloat16Storage", torch::kBFloat16},
    {"torch.LongStorage", torch::kLong},     {"torch.IntStorage", torch::kInt},
    {"torch.ShortStorage", torch::kShort},   {"torch.CharStorage", torch::kChar},
    {"torch.ByteStorage", torch::kByte},     {"torch.BoolStorage", torch::kBool},
};

class Unpickler {
public:
    Unpickler(std::string_view data, const ZipArchive& zip, std::string prefix, std::string source)
        : data_(data), zip_(zip), prefix_(std::move(prefix)), source_(std::move(source))
    {
    }

    // A hostile pickle can make containers that hold themselves (DUP then APPEND, or a
    // memo entry appended to itself): shared pointers in a cycle would never be freed.
    // Every object made here is emptied when the unpickler goes, which breaks any cycle.
    ~Unpickler()
    {
        for (const auto& weak : created_)
            if (const PyRef o = weak.lock()) {
                o->items.clear();
                o->entries.clear();
            }
    }
    Unpickler(const Unpickler&) = delete;
    Unpickler& operator=(const Unpickler&) = delete;

    PyRef run()
    {
        while (true) {
            const std::size_t at = pos_;
            const auto op = static_cast<unsigned char>(byte());
            switch (op) {
            case 0x80: byte(); break;                                     // PROTO n
            case 0x95: bytes(8); break;                                   // FRAME len (protocol 4)
            case '(': marks_.push_back(stack_.size()); break;             // MARK
            case '}': push(make(PyObject::Type::Dict)); break;  // EMPTY_DICT
            case ']': push(make(PyObject::Type::List)); break;  // EMPTY_LIST
            case ')': push(make(PyObject::Type::Tuple)); break; // EMPTY_TUPLE
            case 'N': push(make(PyObject::Type::None)); break;  // NONE
            case 0x88: case 0x89: {                                       // NEWTRUE / NEWFALSE
                auto o = make(PyObject::Type::Bool);
                o->integer = op == 0x88;
                push(o);
                break;
            }
            case 'J': pushInt(static_cast<std::int32_t>(unsigned_(4))); break;  // BININT
            case 'K': pushInt(unsigned_(1)); break;                              // BININT1
            case 'M': pushInt(unsigned_(2)); break;                              // BININT2
            case 0x8a: {                                                         // LONG1
                const auto n = unsigned_(1);
                if (n > 8)
                    fail(at, "LONG1 integer of " + std::to_string(n) + " bytes is too large");
                const std::string_view b = bytes(n);
                std::uint64_t v = 0;
                for (std::size_t i = n; i-- > 0;)
                    v = (v << 8) | static_cast<unsigned char>(b[i]);
                if (n > 0 && n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80))
                    v |= ~std::uint64_t(0) << (8 * n);  // sign-extend
                pushInt(static_cast<std::int64_t>(v));
                break;
            }
            case 'G': {  // BINFLOAT, big endian
                const std::string_view b = bytes(8);
                std::uint64_t v = 0;
                for (char c : b)
                    v = (v << 8) | static_cast<unsigned char>(c);
                auto o = make(PyObject::Type::Float);
                std::memcpy(&o->real, &v, 8);
                push(o);
                break;
            }
            case 'X': pushString(bytes(unsigned_(4))); break;       // BINUNICODE
            case 0x8c: pushString(bytes(unsigned_(1))); break;      // SHORT_BINUNICODE
            case 'q': memo_[unsigned_(1)] = top(at); break;         // BINPUT
            case 'r': memo_[unsigned_(4)] = top(at); break;         // LONG_BINPUT
            case 0x94: memo_[memo_.size()] = top(at); break;        // MEMOIZE (protocol 4)
            case 'h': push(memo(at, unsigned_(1))); break;          // BINGET
            case 'j': push(memo(at, unsigned_(4))); break;          // LONG_BINGET
            case 't': {                                             // TUPLE
                auto o = make(PyObject::Type::Tuple);
                o->items = popToMark(at);
                push(o);
                break;
            }
            case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
                const std::size_t n = op - 0x84;
                if (stack_.size() < n + floor())
                    fail(at, "stack underflow in TUPLE" + std::to_string(n));
                auto o = make(PyObject::Type::Tuple);
                o->items.assign(stack_.end() - n, stack_.end());
                stack_.resize(stack_.size() - n);
                push(o);
                break;
            }
            case 's': {  // SETITEM
                auto value = pop(at);
                auto key = pop(at);
                dictAt(at, top(at))->entries.emplace_back(key, value);
                break;
            }
            case 'u': {  // SETITEMS
                auto items = popToMark(at);
                if (items.size() % 2)
                    fail(at, "SETITEMS with an odd number of items");
                auto dict = dictAt(at, top(at));
                for (std::size_t i = 0; i < items.size(); i += 2)
                    dict->entries.emplace_back(items[i], items[i + 1]);
                break;
            }
            case 'a': {  // APPEND
                auto value = pop(at);
                listAt(at, top(at))->items.push_back(value);
                break;
            }
            case 'e': {  // APPENDS
                auto items = popToMark(at);
                auto list = listAt(at, top(at));
                list->items.insert(list->items.end(), items.begin(), items.end());
                break;
            }
            case 'c': {  // GLOBAL "module\nname\n"
                auto o = make(PyObject::Type::Global);
                const std::string module = line(at);  // two statements: operand order of + is unspecified
                o->text = module + "." + line(at);
                push(o);
                break;
            }
            case 'Q': push(persistentLoad(at, pop(at))); break;  // BINPERSID
            case 'R': {                                          // REDUCE
                auto args = pop(at);
                auto callable = pop(at);
                push(reduce(at, callable, args));
                break;
            }
            case 'b': pop(at); break;  // BUILD: state (e.g. an OrderedDict's _metadata) is not needed
            case '.': {                // STOP
                if (stack_.size() != 1)
                    fail(at, "STOP with " + std::to_string(stack_.size()) + " values on the stack");
                return stack_.back();
            }
            default: {
                std::ostringstream s;
                s << "unsupported pickle opcode 0x" << std::hex << static_cast<int>(op);
                fail(at, s.str());
            }
            }
        }
    }

private:
    [[noreturn]] void fail(std::size_t at, const std::string& problem) const
    {
        throw ModelError(source_, prefix_ + "data.pkl at byte " + std::to_string(at) + ": " + problem);
    }

    char byte()
    {
        if (pos_ >= data_.size())
            fail(pos_, "pickle ends without STOP (truncated?)");
        return data_[pos_++];
    }
    std::string_view bytes(std::uint64_t n)
    {
        if (n > data_.size() - pos_)
            fail(pos_, "pickle ends inside a value (truncated?)");
        const auto v = data_.substr(pos_, n);
        pos_ += n;
        return v;
    }
    std::uint64_t unsigned_(int n)
    {
        const std::string_view b = bytes(n);
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i)
            v = (v << 8) | static_cast<unsigned char>(b[i]);
        return v;
    }
    std::string line(std::size_t at)
    {
        const auto end = data_.find('\n', pos_);
        if (end == std::string_view::npos)
            fail(at, "GLOBAL without a newline");
        std::string s(data_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return s;
    }

    std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    void push(PyRef o) { stack_.push_back(std::move(o)); }
    void pushInt(std::int64_t v)
    {
        auto o = make(PyObject::Type::Int);
        o->integer = v;
        push(o);
    }
    void pushString(std::string_view s)
    {
        auto o = make(PyObject::Type::String);
        o->text = std::string(s);
        push(o);
    }
    PyRef top(std::size_t at) const
    {
        if (stack_.size() <= floor())
            fail(at, "stack underflow");
        return stack_.back();
    }
    PyRef pop(std::size_t at)
    {
        auto o = top(at);
        stack_.pop_back();
        return o;
    }
    std::vector<PyRef> popToMark(std::size_t at)
    {
        if (marks_.empty())
            fail(at, "no MARK on the stack");
        const std::size_t m = marks_.back();
        marks_.pop_back();
        std::vector<PyRef> items(stack_.begin() + m, stack_.end());
        stack_.resize(m);
        return items;
    }
    PyRef memo(std::size_t at, std::uint64_t key) const
    {
        const auto it = memo_.find(key);
        if (it == memo_.end())
            fail(at, "BINGET of unknown memo entry " + std::to_string(key));
        return it->second;
    }
    PyRef dictAt(std::size_t at, const PyRef& o) const
    {
        if (o->type != PyObject::Type::Dict)
            fail(at, "SETITEM on something that is not a dict");
        return o;
    }
    PyRef listAt(std::size_t at, const PyRef& o) const
    {
        if (o->type != PyObject::Type::List)
            fail(at, "APPEND on something that is not a list");
        return o;
    }
    std::int64_t intOf(std::size_t at, const PyRef& o, const char* what) const
    {
        if (o->type != PyObject::Type::Int)
            fail(at, std::string(what) + " is not an integer");
        return o->integer;
    }
    std::vector<std::int64_t> intsOf(std::size_t at, const PyRef& o, const char* what) const
    {
        if (o->type != PyObject::Type::Tuple)
            fail(at, std::string(what) + " is not a tuple");
        std::vector<std::int64_t> v;
        for (const auto& i : o->items) {
            v.push_back(intOf(at, i, what));
            if (v.back() < 0)
                fail(at, std::string(what) + " has a negative entry");
        }
        return v;
    }

    // ('storage', torch.<T>Storage, key, location, numel) -> the storage, read once per key.
    PyRef persistentLoad(std::size_t at, const PyRef& pid)
    {
        if (pid->type != PyObject::Type::Tuple || pid->items.size() < 5 || pid->items[0]->type != PyObject::Type::String ||
            pid->items[0]->text != "storage")
            fail(at, "persistent id is not a ('storage', type, key, location, numel) record");
        const auto& typeObj = pid->items[1];
        const auto& keyObj = pid->items[2];
        if (typeObj->type != PyObject::Type::Global || keyObj->type != PyObject::Type::String)
            fail(at, "malformed storage record");
        const std::string& key = keyObj->text;
        const auto cached = storages_.find(key);
        if (cached != storages_.end())
            return cached->second;
        const StorageType* st = nullptr;
        for (const auto& t : kStorageTypes)
            if (typeObj->text == t.name)
                st = &t;
        if (!st)
            fail(at, "unsupported storage type " + typeObj->text + " for record data/" + key);
        const std::int64_t numel = intOf(at, pid->items[4], "storage size");
        const auto rec = zip_.records().find(prefix_ + "data/" + key);
        if (rec == zip_.records().end())
            fail(at, "storage record " + prefix_ + "data/" + key + " is missing from the archive");
        const auto elem = static_cast<std::int64_t>(c10::elementSize(st->dtype));
        if (numel < 0 || static_cast<std::uint64_t>(numel) > rec->second.size / elem)
            fail(at, "storage record data/" + key + " holds " + std::to_string(rec->second.size) + " bytes, need " +
                         std::to_string(numel) + " elements of " + std::to_string(elem) + " bytes");
        auto o = make(PyObject::Type::Storage);
        o->text = key;
        o->tensor = torch::empty({numel}, torch::TensorOptions().dtype(st->dtype));
        if (numel > 0)
            std::memcpy(o->tensor.data_ptr(), zip_.contents(rec->second).data(), numel * elem);
        storages_[key] = o;
        return o;
    }

    PyRef reduce(std::size_t at, const PyRef& callable, const PyRef& args)
    {
        if (callable->type != PyObject::Type::Global)
            fail(at, "REDUCE of something that is not a global");
        if (args->type != PyObject::Type::Tuple)
            fail(at, "REDUCE arguments are not a tuple");
        const std::string& name = callable->text;
        if (name == "collections.OrderedDict") {
            if (!args->items.empty())
                fail(at, "OrderedDict built from arguments is not supported");
            return make(PyObject::Type::Dict);
        }
        if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
            if (args->items.size() < 4 || args->items[0]->type != PyObject::Type::Storage)
                fail(at, "_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
            const auto& storage = args->items[0]->tensor;
            const std::int64_t offset = intOf(at, args->items[1], "storage offset");
            const auto size = intsOf(at, args->items[2], "tensor size");
            const auto stride = intsOf(at, args->items[3], "tensor stride");
            if (size.size() != stride.size())
                fail(at, "tensor size and stride differ in length");
            // Highest element touched must lie inside the storage.
            std::int64_t last = offset;
            bool empty = false;
            for (std::size_t i = 0; i < size.size(); ++i) {
                if (size[i] == 0)
                    empty = true;
                else
                    last += (size[i] - 1) * stride[i];
            }
            if (offset < 0 || (!empty && last >= storage.numel()))
                fail(at, "tensor view (offset " + std::to_string(offset) + ") reaches past the end of storage data/" +
                             args->items[0]->text);
            auto o = make(PyObject::Type::Tensor);
            o->tensor = empty ? torch::empty(size, storage.options())
                              : storage.as_strided(size, stride, offset).contiguous().clone();
            return o;
        }
        if (name == "torch._utils._rebuild_parameter") {
            if (args->items.empty() || args->items[0]->type != PyObject::Type::Tensor)
                fail(at, "_rebuild_parameter without a tensor");
            return args->items[0];
        }
        fail(at, "unsupported callable " + name);
    }

    std::string_view data_;
    const ZipArchive& zip_;
    std::string prefix_;
    std::string source_;
    std::size_t pos_ = 0;
    std::vector<PyRef> stack_;
    std::vector<std::size_t> marks_;
    std::unordered_map<std::uint64_t, PyRef> memo_;
    std::vector<std::weak_ptr<PyObject>> created_;  // everything make() made (see ~Unpickler)

    PyRef make(PyObject::Type type)
    {
        PyRef o = PyObject::make(type);
        created_.push_back(o);
        return o;
    }
    std::map<std::string, PyRef> storages_;
};

bool hasTensorValues(const PyObject& dict)
{
    for (const auto& [k, v] : dict.entries)
        if (v->type == PyObject::Type::Tensor)
            return true;
    return false;
}

}  // namespace

bool looksLikeZip(const std::string& bytes)
{
    return bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
}

std::map<std::string, torch::Tensor> parsePthStateDict(const std::string& bytes, const std::string& source)
{
    if (!looksLikeZip(bytes)) {
        if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80)
            throw ModelError(source, "legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with "
                                     "torch.save(obj, path) from PyTorch >= 1.6, or convert it to safetensors");
        throw ModelError(source, "not a PyTorch zip file (torch.save) nor safetensors");
    }
    const ZipArchive zip(bytes, source);
    std::string prefix;
    const ZipRecord* pkl = nullptr;
    for (const auto& [name, rec] : zip.records()) {
        // "data.pkl" or "<stem>/data.pkl" (only the top folder's; constants.pkl etc. differ)
        const auto slash = name.find('/');
        const bool top = name == "data.pkl" ||
                         (slash != std::string::npos && slash + 1 < name.size() && name.substr(slash + 1) == "data.pkl");
        if (top) {
            prefix = name.substr(0, name.size() - 8);
            pkl = &rec;
        }
    }
    if (!pkl)
        throw ModelError(source, "zip archive has no data.pkl record; not a torch.save file");
    if (zip.records().count(prefix + "constants.pkl"))
        throw ModelError(source, "this is a TorchScript archive (torch.jit.save), not a state dict; save its "
                                 "state_dict() with torch.save or convert it to safetensors");

    Unpickler unpickler(zip.contents(*pkl), zip, prefix, source);
    PyRef root = unpickler.run();
    // {"model": sd} / {"state_dict": sd} / {"module": sd}: descend while the dict holds no tensors.
    for (int depth = 0; depth < 4 && root->type == PyObject::Type::Dict && !hasTensorValues(*root); ++depth) {
        PyRef inner;
        for (const auto& [k, v] : root->entries)
            if (k->type == PyObject::Type::String && v->type == PyObject::Type::Dict &&
                (k->text == "state_dict" || k->text == "model" || k->text == "module" || k->text == "model_state_dict"))
                inner = v;
        if (!inner)
            break;
        root = inner;
    }
    if (root->type != PyObject::Type::Dict)
        throw ModelError(source, "the pickled object is not a dict of tensors (a state dict)");
    std::map<std::string, torch::Tensor> out;
    for (const auto& [k, v] : root->entries) {
        if (v->type != PyObject::Type::Tensor)
            continue;
        if (k->type != PyObject::Type::String)
            throw ModelError(source, "state dict has a tensor under a key that is not a string");
        if (!out.emplace(k->text, v->tensor).second)
            throw ModelError(source, "state dict has the key '" + k->text + "' twice");
    }
    if (out.empty())
        throw ModelError(source, "no tensors found in the state dict");
    return out;
}

std::map<std::string, torch::Tensor> readPthStateDict(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ModelError(path, "cannot open the file");
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(in.tellg());
    in.seekg(0, std::ios::beg);
    std::string bytes(size, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (!in)
        throw ModelError(path, "read error");
    return parsePthStateDict(bytes, path);
}

}  // namespace ei
