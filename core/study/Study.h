// A study: the model's named modality slots (from its config: name + kind "image" /
// "volume"), each holding at most one Image. Files are put in slots by the user
// (assign) or automatically from their tags (autoAssign, rules in core/study/SlotAssignment);
// a user's choice is never overwritten by the automatic one.
#pragma once

#include "core/io/Image.h"
#include "core/study/SlotAssignment.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ei {

struct StudySlot {
    std::string name;           // e.g. "CFP", "OCT", "sagittal"
    std::string kind = "image";  // "image" or "volume"
};

class Study {
public:
    Study() = default;
    // Throws ei::UsageError for duplicate or empty names or an unknown kind.
    explicit Study(std::vector<StudySlot> slots);

    const std::vector<StudySlot>& slots() const { return slots_; }
    std::vector<std::string> slotNames() const;

    // User choice: puts `image` in `slot` (replacing what was there). UsageError for an
    // unknown slot.
    void assign(const std::string& slot, Image image);
    void clear(const std::string& slot);
    bool has(const std::string& slot) const { return images_.count(slot) > 0; }
    bool assignedByUser(const std::string& slot) const { return byUser_.count(slot) > 0; }
    const Image& image(const std::string& slot) const;  // UsageError when empty

    // Puts each image in the empty slot its tags name (first come, first served); returns,
    // per image, the slot it went to or "" when it matched none (or its slot was taken).
    std::vector<std::string> autoAssign(std::vector<Image> images,
                                        const SlotAssignment& rules = SlotAssignment::defaults());

    std::vector<std::string> missingSlots() const;
    // The inputs of InferenceRunner::run.
    const std::map<std::string, Image>& inputs() const { return images_; }

private:
    const StudySlot& slotNamed(const std::string& name) const;

    std::vector<StudySlot> slots_;
    std::map<std::string, Image> images_;
    std::map<std::string, bool> byUser_;
};

}  // namespace ei
