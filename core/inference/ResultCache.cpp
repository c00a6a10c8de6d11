// See ResultCache.h.
#include "core/inference/ResultCache.h"

#include <QDateTime>
#include <QFileInfo>

namespace ei {

std::string ResultCache::key(const std::vector<std::pair<std::string, std::string>>& slots,
                             const std::string& modelFingerprint, const std::string& device)
{
    std::string k = modelFingerprint + "|" + device;
    for (const auto& [name, path] : slots) {
        const QFileInfo info(QString::fromStdString(path));
        k += "|" + name + "=" + info.absoluteFilePath().toStdString() + "#" + std::to_string(info.size()) + "@" +
             std::to_string(info.lastModified().toMSecsSinceEpoch());
    }
    return k;
}

std::shared_ptr<const InferenceResult> ResultCache::find(const std::string& key)
{
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first == key) {
            entries_.splice(entries_.begin(), entries_, it);
            return entries_.front().second;
        }
    }
    return nullptr;
}

void ResultCache::insert(const std::string& key, std::shared_ptr<const InferenceResult> result)
{
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->first == key) {
            entries_.erase(it);
            break;
        }
    }
    entries_.emplace_front(key, std::move(result));
    while (entries_.size() > capacity_)
        entries_.pop_back();
}

}  // namespace ei
