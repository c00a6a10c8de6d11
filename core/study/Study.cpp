// Study slots (see Study.h).
#include "core/study/Study.h"

#include "models/Error.h"

#include <algorithm>
#include <set>

namespace ei {

Study::Study(std::vector<StudySlot> slots) : slots_(std::move(slots))
{
    std::set<std::string> seen;
    for (const auto& s : slots_) {
        if (s.name.empty())
            throw UsageError("study slot with an empty name");
        if (!seen.insert(s.name).second)
            throw UsageError("study slot '" + s.name + "' given twice");
        if (s.kind != "image" && s.kind != "volume")
            throw UsageError("study slot '" + s.name + "': kind must be image or volume, not '" + s.kind + "'");
    }
}

std::vector<std::string> Study::slotNames() const
{
    std::vector<std::string> names;
    for (const auto& s : slots_)
        names.push_back(s.name);
    return names;
}

const StudySlot& Study::slotNamed(const std::string& name) const
{
    for (const auto& s : slots_)
        if (s.name == name)
            return s;
    throw UsageError("the study has no slot '" + name + "'");
}

void Study::assign(const std::string& slot, Image image)
{
    slotNamed(slot);
    images_[slot] = std::move(image);
    byUser_[slot] = true;
}

void Study::clear(const std::string& slot)
{
    slotNamed(slot);
    images_.erase(slot);
    byUser_.erase(slot);
}

const Image& Study::image(const std::string& slot) const
{
    slotNamed(slot);
    const auto it = images_.find(slot);
    if (it == images_.end())
        throw UsageError("study slot '" + slot + "' is empty");
    return it->second;
}

std::vector<std::string> Study::autoAssign(std::vector<Image> images, const SlotAssignment& rules)
{
    std::vector<std::string> placed;
    for (auto& image : images) {
        std::vector<std::string> free;
        for (const auto& s : slots_)
            if (!has(s.name))
                free.push_back(s.name);
        const std::string slot = rules.slotFor(image, free);
        if (!slot.empty())
            images_[slot] = std::move(image);
        placed.push_back(slot);
    }
    return placed;
}

std::vector<std::string> Study::missingSlots() const
{
    std::vector<std::string> missing;
    for (const auto& s : slots_)
        if (!has(s.name))
            missing.push_back(s.name);
    return missing;
}

}  // namespace ei
