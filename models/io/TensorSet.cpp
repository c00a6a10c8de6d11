// Checking a set of named tensors against expected names and shapes.
#include "models/io/TensorSet.h"

#include "models/Error.h"

#include <set>

namespace ei {

std::string shapeText(const std::vector<std::int64_t>& shape)
{
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i)
        out += (i ? "," : "") + std::to_string(shape[i]);
    return out + "]";
}

std::map<std::string, torch::Tensor> checkedTensorSet(const TensorShapes& expected,
                                                      const std::map<std::string, torch::Tensor>& tensors,
                                                      const std::string& source, const std::string& what)
{
    std::map<std::string, torch::Tensor> out;
    std::set<std::string> names;
    for (const auto& [name, shape] : expected) {
        names.insert(name);
        const auto it = tensors.find(name);
        if (it == tensors.end())
            throw ModelError(source, "missing " + what + "tensor " + name);
        if (it->second.sizes().vec() != shape)
            throw ModelError(source, what + "tensor " + name + " has shape " + shapeText(it->second.sizes().vec()) +
                                         ", expected " + shapeText(shape));
        out[name] = it->second.to(torch::kFloat).contiguous();
    }
    for (const auto& [name, t] : tensors)
        if (!names.count(name))
            throw ModelError(source, "unexpected " + what + "tensor " + name);
    return out;
}

std::size_t tensorSetStamp(const std::map<std::string, torch::Tensor>& tensors)
{
    std::size_t h = 1469598103934665603ull;  // FNV-1a over (storage, version) pairs
    for (const auto& [name, t] : tensors) {
        const auto ptr = reinterpret_cast<std::uintptr_t>(t.data_ptr());
        const std::size_t version = t.is_inference() ? 0 : static_cast<std::size_t>(t._version());
        h = (h ^ ptr) * 1099511628211ull;
        h = (h ^ version) * 1099511628211ull;
    }
    return h;
}

}  // namespace ei
