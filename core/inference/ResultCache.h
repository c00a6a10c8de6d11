// Inference results kept per (study files, model, device), so that re-running the same
// study or toggling overlays is instant. A study's identity is each slot's file path,
// size and modification time: editing a file on disk invalidates its entries.
#pragma once

#include "core/inference/InferenceResult.h"

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ei {

class ResultCache {
public:
    explicit ResultCache(std::size_t capacity = 16) : capacity_(capacity) {}

    // slots: (slot name, source path) in model order.
    static std::string key(const std::vector<std::pair<std::string, std::string>>& slots,
                           const std::string& modelFingerprint, const std::string& device);

    std::shared_ptr<const InferenceResult> find(const std::string& key);  // refreshes its age
    void insert(const std::string& key, std::shared_ptr<const InferenceResult> result);
    void clear() { entries_.clear(); }
    std::size_t size() const { return entries_.size(); }

private:
    std::size_t capacity_;
    std::list<std::pair<std::string, std::shared_ptr<const InferenceResult>>> entries_;  // newest first
};

}  // namespace ei
