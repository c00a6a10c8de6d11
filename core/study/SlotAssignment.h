// Which modality slot of a model an image belongs in, from its tags: DICOM Modality OP ->
// fundus photo, OPT -> OCT, XC / ES -> clinical photo, MR -> sagittal / coronal / axial
// from the slice orientation. The rules are data (resources/presets/slot_rules.json,
// compiled in as :/eiview/presets/slot_rules.json); a study may be given other rules.
#pragma once

#include "core/io/Image.h"

#include <string>
#include <vector>

namespace ei {

struct SlotRule {
    std::string role;                     // e.g. "fundus_photo"
    std::vector<std::string> modalities;  // DICOM Modality values that match
    std::string plane;                    // "", or "axial" / "coronal" / "sagittal"
    std::vector<std::string> slots;       // slot names it fills (case-insensitive)
};

class SlotAssignment {
public:
    // Parses rules JSON ({"version": 1, "rules": [{"role", "modality": [...], "plane"?,
    // "slots": [...]}]}). Throws ei::BadInputError naming `source` and the problem.
    static SlotAssignment fromJson(const std::string& jsonText, const std::string& source);
    // The bundled rules.
    static const SlotAssignment& defaults();

    // The plane an image's slices lie in: the canonical plane of a reoriented volume, else
    // the slice normal's nearest patient axis when the orientation is known; "" otherwise.
    static std::string planeOf(const Image& image);

    // The first rule matching the image's tags, or nullptr.
    const SlotRule* match(const Image& image) const;

    // The slot among `slotNames` (a model's modality names) the image belongs in, or "".
    std::string slotFor(const Image& image, const std::vector<std::string>& slotNames) const;

    const std::vector<SlotRule>& rules() const { return rules_; }

private:
    std::vector<SlotRule> rules_;
};

}  // namespace ei
