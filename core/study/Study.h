// A study: named modality slots (from the model's config: name + kind "image" /
// "volume"), each holding at most one image and the path it came from. Images are put in
// slots by the user (assign) or automatically (place: file name, then the DICOM tag rules
// of core/study/SlotAssignment); a user's choice is never overwritten by the automatic
// one, and an image whose tags name other slots never goes into this one. The core of
// core/study/StudySession; plain C++, no Qt.
#pragma once

#include "core/io/Image.h"
#include "core/study/SlotAssignment.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ei {

struct StudySlot {
    std::string name;            // e.g. "CFP", "OCT", "sagittal"
    std::string kind = "image";  // "image" or "volume"
};

class Study {
public:
    struct Candidate {
        std::shared_ptr<const Image> image;
        std::string path;  // where it came from (its file name may name the slot)
    };

    Study() = default;
    // Throws ei::UsageError for duplicate or empty names or an unknown kind.
    explicit Study(std::vector<StudySlot> slots);

    const std::vector<StudySlot>& slots() const { return slots_; }
    std::vector<std::string> slotNames() const;
    const StudySlot& slot(const std::string& name) const;  // UsageError when unknown
    void addSlot(StudySlot slot);                          // UsageError as the constructor

    // User choice: puts the image in `slot` (replacing what was there). UsageError for an
    // unknown slot; BadInputError naming `path` when a volume meets an image slot or the
    // other way round.
    void assign(const std::string& slot, std::shared_ptr<const Image> image, const std::string& path = {});
    void assign(const std::string& slot, Image image, const std::string& path = {});
    void clear(const std::string& slot);
    void clearAll();
    void swap(const std::string& a, const std::string& b);  // the two slots' images
    bool has(const std::string& slot) const { return items_.count(slot) > 0; }
    bool assignedByUser(const std::string& slot) const;
    const Image& image(const std::string& slot) const;  // UsageError when empty
    std::shared_ptr<const Image> imagePtr(const std::string& slot) const;  // nullptr when empty
    std::string path(const std::string& slot) const;                       // "" when empty

    // How well an image fits a slot; below 1 means never. A volume never goes into an
    // image slot (and the other way round); an image whose tags match a rule only goes
    // into that rule's slots (+10); a file name that contains the slot name adds 20.
    static int score(const StudySlot& slot, const Image& image, const std::string& path,
                     const SlotAssignment& rules = SlotAssignment::defaults());

    // Puts each candidate in the free slot it fits best (in order, first come first
    // served); returns, per candidate, the slot it went to or "" when none fits.
    std::vector<std::string> place(const std::vector<Candidate>& candidates,
                                   const SlotAssignment& rules = SlotAssignment::defaults());
    // place() for images without a path (tags only).
    std::vector<std::string> autoAssign(std::vector<Image> images, const SlotAssignment& rules = SlotAssignment::defaults());

    std::vector<std::string> missingSlots() const;
    bool isComplete() const { return missingSlots().empty() && !slots_.empty(); }
    // The inputs of InferenceRunner::run (copies of the images).
    std::map<std::string, Image> inputs() const;
    // (slot, path) in slot order: what identifies the study in core/inference/ResultCache.
    std::vector<std::pair<std::string, std::string>> files() const;

private:
    struct Item {
        std::shared_ptr<const Image> image;
        std::string path;
        bool byUser = false;
    };
    void checkSlot(const StudySlot& slot) const;

    std::vector<StudySlot> slots_;
    std::map<std::string, Item> items_;
};

}  // namespace ei
