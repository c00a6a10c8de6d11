// Slot rules (see SlotAssignment.h).
#include "core/study/SlotAssignment.h"

#include "models/Error.h"

#include <QFile>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace ei {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string upper(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
}

}  // namespace

SlotAssignment SlotAssignment::fromJson(const std::string& jsonText, const std::string& source)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(jsonText);
    } catch (const nlohmann::json::exception& e) {
        throw BadInputError(source, std::string("slot rules are not valid JSON: ") + e.what());
    }
    if (!j.is_object() || !j.contains("rules") || !j["rules"].is_array())
        throw BadInputError(source, "slot rules need a \"rules\" array");
    if (j.value("version", 0) != 1)
        throw BadInputError(source, "slot rules: unsupported \"version\" (1 expected)");
    SlotAssignment out;
    for (const auto& r : j["rules"]) {
        try {
            SlotRule rule;
            rule.role = r.at("role").get<std::string>();
            for (const auto& m : r.at("modality"))
                rule.modalities.push_back(upper(m.get<std::string>()));
            rule.plane = r.value("plane", "");
            if (!rule.plane.empty() && rule.plane != "axial" && rule.plane != "coronal" && rule.plane != "sagittal")
                throw BadInputError(source, "slot rule '" + rule.role + "': plane must be axial, coronal or sagittal");
            for (const auto& s : r.at("slots"))
                rule.slots.push_back(s.get<std::string>());
            for (const auto& [key, value] : r.items())
                if (key != "role" && key != "modality" && key != "plane" && key != "slots")
                    throw BadInputError(source, "slot rule '" + rule.role + "': unknown key \"" + key + "\"");
            out.rules_.push_back(std::move(rule));
        } catch (const nlohmann::json::exception& e) {
            throw BadInputError(source, std::string("malformed slot rule: ") + e.what());
        }
    }
    return out;
}

const SlotAssignment& SlotAssignment::defaults()
{
    static const SlotAssignment rules = [] {
        const char* name = ":/eiview/presets/slot_rules.json";
        QFile file(name);
        if (!file.open(QIODevice::ReadOnly))
            throw BadInputError(name, "bundled slot rules are missing from the build");
        return fromJson(file.readAll().toStdString(), name);
    }();
    return rules;
}

std::string SlotAssignment::planeOf(const Image& image)
{
    if (!image.canonicalPlane.empty())
        return image.canonicalPlane;
    const bool knownOrientation =
        image.hasGeometry || image.tags.other.count("(0020,0037) ImageOrientationPatient") > 0;
    if (!knownOrientation)
        return {};
    const double nx = std::abs(image.direction[6]), ny = std::abs(image.direction[7]), nz = std::abs(image.direction[8]);
    if (nz >= nx && nz >= ny)
        return "axial";
    return ny >= nx ? "coronal" : "sagittal";
}

const SlotRule* SlotAssignment::match(const Image& image) const
{
    const std::string modality = upper(image.tags.modality);
    if (modality.empty())
        return nullptr;
    const std::string plane = planeOf(image);
    for (const auto& rule : rules_) {
        if (std::find(rule.modalities.begin(), rule.modalities.end(), modality) == rule.modalities.end())
            continue;
        if (!rule.plane.empty() && rule.plane != plane)
            continue;
        return &rule;
    }
    return nullptr;
}

std::string SlotAssignment::slotFor(const Image& image, const std::vector<std::string>& slotNames) const
{
    const SlotRule* rule = match(image);
    if (rule == nullptr)
        return {};
    for (const auto& alias : rule->slots)
        for (const auto& name : slotNames)
            if (lower(alias) == lower(name))
                return name;
    return {};
}

}  // namespace ei
