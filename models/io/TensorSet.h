// Checking a set of named tensors against the names and shapes a config expects: the one
// place that says "missing tensor X", "tensor X has shape [..], expected [..]" and
// "unexpected tensor X" for backbones and EI models alike.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ei {

using TensorShapes = std::vector<std::pair<std::string, std::vector<std::int64_t>>>;

// "[768,3,14,14]"
std::string shapeText(const std::vector<std::int64_t>& shape);

// Every expected name present with its shape and nothing else, else ei::ModelError naming
// `source` and the tensor (`what` prefixes the tensor word, e.g. "backbone "). Returns the
// tensors as contiguous float32.
std::map<std::string, torch::Tensor> checkedTensorSet(const TensorShapes& expected,
                                                      const std::map<std::string, torch::Tensor>& tensors,
                                                      const std::string& source, const std::string& what = "");

// Changes when any tensor of the set is replaced (other storage) or modified in place (its
// version counter): what a cache derived from the tensors checks before it is reused.
std::size_t tensorSetStamp(const std::map<std::string, torch::Tensor>& tensors);

}  // namespace ei
