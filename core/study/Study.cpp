// Study slots and placement (see Study.h).
#include "core/study/Study.h"

#include "models/Error.h"

#include <algorithm>
#include <cctype>

namespace ei {

namespace {

std::string upper(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

// The file name without folders and extensions ("CFP_patient" of /a/CFP_patient.nii.gz).
std::string baseName(const std::string& path)
{
    std::string name = path.substr(path.find_last_of('/') + 1);
    return name.substr(0, name.find('.'));
}

}  // namespace

Study::Study(std::vector<StudySlot> slots)
{
    for (auto& s : slots)
        addSlot(std::move(s));
}

void Study::checkSlot(const StudySlot& s) const
{
    if (s.name.empty())
        throw UsageError("study slot with an empty name");
    for (const auto& other : slots_)
        if (other.name == s.name)
            throw UsageError("study slot '" + s.name + "' given twice");
    if (s.kind != "image" && s.kind != "volume")
        throw UsageError("study slot '" + s.name + "': kind must be image or volume, not '" + s.kind + "'");
}

void Study::addSlot(StudySlot slot)
{
    checkSlot(slot);
    slots_.push_back(std::move(slot));
}

std::vector<std::string> Study::slotNames() const
{
    std::vector<std::string> names;
    for (const auto& s : slots_)
        names.push_back(s.name);
    return names;
}

const StudySlot& Study::slot(const std::string& name) const
{
    for (const auto& s : slots_)
        if (s.name == name)
            return s;
    throw UsageError("the study has no slot '" + name + "'");
}

void Study::assign(const std::string& name, std::shared_ptr<const Image> image, const std::string& path)
{
    const StudySlot& s = slot(name);
    if (!image)
        throw UsageError("no image given for slot '" + name + "'");
    if ((s.kind == "volume") != image->isVolume())
        throw BadInputError(path.empty() ? image->sourcePath : path,
                            s.kind == "volume" ? "slot " + name + " needs a volume, this is a 2-D image"
                                               : "slot " + name + " needs a 2-D image, this is a volume");
    items_[name] = {std::move(image), path, true};
}

void Study::assign(const std::string& name, Image image, const std::string& path)
{
    assign(name, std::make_shared<const Image>(std::move(image)), path);
}

void Study::clear(const std::string& name)
{
    slot(name);
    items_.erase(name);
}

void Study::clearAll() { items_.clear(); }

void Study::swap(const std::string& a, const std::string& b)
{
    slot(a);
    slot(b);
    if (a == b)
        return;
    Item ia = has(a) ? items_[a] : Item{}, ib = has(b) ? items_[b] : Item{};
    items_.erase(a);
    items_.erase(b);
    if (ib.image)
        items_[a] = ib;
    if (ia.image)
        items_[b] = ia;
}

bool Study::assignedByUser(const std::string& name) const
{
    const auto it = items_.find(name);
    return it != items_.end() && it->second.byUser;
}

const Image& Study::image(const std::string& name) const
{
    slot(name);
    const auto it = items_.find(name);
    if (it == items_.end())
        throw UsageError("study slot '" + name + "' is empty");
    return *it->second.image;
}

std::shared_ptr<const Image> Study::imagePtr(const std::string& name) const
{
    const auto it = items_.find(name);
    return it == items_.end() ? nullptr : it->second.image;
}

std::string Study::path(const std::string& name) const
{
    const auto it = items_.find(name);
    return it == items_.end() ? std::string() : it->second.path;
}

int Study::score(const StudySlot& slot, const Image& image, const std::string& path, const SlotAssignment& rules)
{
    if ((slot.kind == "volume") != image.isVolume())
        return 0;
    int score = 1;
    if (rules.match(image)) {
        // The tags say what the image is: only the slots its rule names.
        if (rules.slotFor(image, {slot.name}).empty())
            return 0;
        score += 10;
    }
    if (!path.empty() && upper(baseName(path)).find(upper(slot.name)) != std::string::npos)
        score += 20;  // the user named the file after the slot
    return score;
}

std::vector<std::string> Study::place(const std::vector<Candidate>& candidates, const SlotAssignment& rules)
{
    std::vector<std::string> placed;
    for (const auto& c : candidates) {
        const StudySlot* best = nullptr;
        int bestScore = 0;
        for (const auto& s : slots_) {
            if (has(s.name))
                continue;
            const int sc = score(s, *c.image, c.path, rules);
            if (sc > bestScore) {
                best = &s;
                bestScore = sc;
            }
        }
        if (best)
            items_[best->name] = {c.image, c.path, false};
        placed.push_back(best ? best->name : std::string());
    }
    return placed;
}

std::vector<std::string> Study::autoAssign(std::vector<Image> images, const SlotAssignment& rules)
{
    std::vector<Candidate> candidates;
    for (auto& im : images)
        candidates.push_back({std::make_shared<const Image>(std::move(im)), {}});
    return place(candidates, rules);
}

std::vector<std::string> Study::missingSlots() const
{
    std::vector<std::string> missing;
    for (const auto& s : slots_)
        if (!has(s.name))
            missing.push_back(s.name);
    return missing;
}

std::map<std::string, Image> Study::inputs() const
{
    std::map<std::string, Image> out;
    for (const auto& [name, item] : items_)
        out.emplace(name, *item.image);
    return out;
}

std::vector<std::pair<std::string, std::string>> Study::files() const
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : slots_)
        out.emplace_back(s.name, path(s.name));
    return out;
}

}  // namespace ei
