// See InferenceResult.h.
#include "core/inference/InferenceResult.h"

#include <algorithm>

namespace ei {

InferenceResult withAttribution(InferenceResult result, std::shared_ptr<const AttributionResult> attribution)
{
    for (auto& m : result.modalities) {
        auto& maps = m.maps;
        maps.erase(std::remove_if(maps.begin(), maps.end(), [](const SimilarityMap& s) { return s.kind == "ig"; }), maps.end());
        if (attribution) {
            const auto it = attribution->maps.find(m.name);
            if (it != attribution->maps.end())
                maps.push_back(it->second);
        }
    }
    result.attribution = std::move(attribution);
    return result;
}

}  // namespace ei
