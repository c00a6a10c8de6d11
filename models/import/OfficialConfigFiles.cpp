// OfficialEiImporter::flattenOfficialConfig: the official repository's config files as
// shipped (settings under training_params, MoR settings in the stage-1 configs, class
// names in paths.mapping_path) to the flat form the importer reads. See
// OfficialEiImporter.h and docs/import.md.
#include "models/import/OfficialEiImporter.h"

#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace ei {

using json = nlohmann::json;

namespace {

[[noreturn]] void configFail(const std::string& source, const std::string& key, const std::string& problem)
{
    throw BadInputError(source, "official config key '" + key + "': " + problem);
}

json readJsonFile(const std::filesystem::path& path, const std::string& referrer, const std::string& key)
{
    std::ifstream in(path);
    if (!in)
        throw BadInputError(referrer, "'" + key + "' names " + path.string() + ", which cannot be read");
    const json j = json::parse(in, nullptr, false);
    if (j.is_discarded())
        throw BadInputError(path.string(), "is not valid JSON");
    return j;
}

// The repository root a config's relative paths start from: the folder above
// configs_mul/ or configs_uni/, else the config's own folder.
std::filesystem::path repositoryRoot(const std::string& configPath)
{
    const auto folder = std::filesystem::absolute(configPath).parent_path();
    const std::string name = folder.filename().string();
    return name.rfind("configs", 0) == 0 ? folder.parent_path() : folder;
}

}  // namespace

json OfficialEiImporter::flattenOfficialConfig(const json& c, const std::string& configPath, const Options& options)
{
    if (!c.is_object() || !c.contains("training_params"))
        return c;  // already flat (our earlier form)
    const json& tp = c["training_params"];
    if (!tp.is_object())
        configFail(configPath, "training_params", "must be an object");
    const auto root = repositoryRoot(configPath);
    json flat = json::object();
    for (const char* key : {"net", "modality_idx", "loss_func", "sampling_num", "transfer_type", "prior_gaps", "lora_params"})
        if (tp.contains(key))
            flat[key] = tp[key];
    if (flat.contains("net") && flat["net"].is_string()) {  // dinov2_b_ei -> the backbone's name
        std::string net = flat["net"];
        if (net.size() > 3 && net.compare(net.size() - 3, 3, "_ei") == 0)
            flat["net"] = net.substr(0, net.size() - 3);
    }
    if (c.contains("augmentation_params"))
        flat["augmentation_params"] = c["augmentation_params"];

    // Classes: --classes, else paths.mapping_path (relative to the repository root).
    if (!options.classesPath.empty()) {
        flat["mapping"] = readJsonFile(options.classesPath, configPath, "--classes");
    } else if (c.contains("paths") && c["paths"].is_object() && c["paths"].contains("mapping_path") &&
               c["paths"]["mapping_path"].is_string()) {
        std::filesystem::path p = c["paths"]["mapping_path"].get<std::string>();
        if (p.is_relative())
            p = root / p;
        if (!std::filesystem::exists(p))
            configFail(configPath, "paths.mapping_path",
                       p.lexically_normal().string() + " does not exist; give the class mapping with --classes FILE");
        flat["mapping"] = readJsonFile(p, configPath, "paths.mapping_path");
    }

    // MoR settings: a stage-1 config holds them in training_params.lora_params; an EI
    // config names its stage-1 configs (one per modality, in modality_idx order).
    auto morOf = [&](const json& stage1, const std::string& source) {
        const json& t = stage1.contains("training_params") ? stage1["training_params"] : stage1;
        if (t.contains("transfer_type") && t["transfer_type"] != "mor")
            configFail(source, "training_params.transfer_type", "only 'mor' runs can be imported");
        if (!t.contains("lora_params") || !t["lora_params"].is_object())
            configFail(source, "training_params.lora_params", "missing (the MoR ranks, alphas and layers)");
        return t["lora_params"];
    };
    json lora;
    if (tp.contains("lora_params")) {
        lora = morOf(c, configPath);
    } else {
        std::vector<std::pair<std::string, std::filesystem::path>> stage1;
        if (tp.contains("model_params") && tp["model_params"].is_object() && tp["model_params"].contains("pretrained_configs")) {
            const json& list = tp["model_params"]["pretrained_configs"];
            if (!list.is_array())
                configFail(configPath, "training_params.model_params.pretrained_configs", "must be a list of paths");
            for (std::size_t i = 0; i < list.size(); ++i)
                if (list[i].is_string())
                    stage1.push_back({std::to_string(i), root / list[i].get<std::string>()});
        }
        for (const auto& [modality, file] : options.stage1Configs) {  // --stage1-config M=FILE overrides
            bool replaced = false;
            for (auto& [m, p] : stage1)
                if (m == modality) {
                    p = file;
                    replaced = true;
                }
            if (!replaced)
                stage1.push_back({modality, file});
        }
        if (stage1.empty())
            configFail(configPath, "training_params.model_params.pretrained_configs",
                       "missing: an EI config names its stage-1 configs there (or give --stage1-config M=FILE)");
        for (const auto& [modality, file] : stage1) {
            if (!std::filesystem::exists(file))
                configFail(configPath, "training_params.model_params.pretrained_configs",
                           "stage-1 config " + file.lexically_normal().string() + " (modality " + modality +
                               ") does not exist; give it with --stage1-config " + modality + "=FILE");
            const json one = morOf(readJsonFile(file, configPath, "pretrained_configs"), file.string());
            json settings = one;
            settings.erase("num_loras");
            if (lora.is_null())
                lora = settings;
            else if (lora != settings)
                configFail(file.string(), "training_params.lora_params",
                           "differs from the other stage-1 configs; EIView's MoR uses one setting for every modality");
        }
    }
    flat["lora_params"] = {{"r", lora.value("r", json::array())}, {"alpha", lora.value("alpha", json::array())}};
    if (lora.contains("lora_layers"))
        flat["lora_layers"] = lora["lora_layers"];
    flat["transfer_type"] = "mor";
    return flat;
}

}  // namespace ei
