// libFuzzer target: the JSON that EIView reads from users and model files. The first byte
// picks the reader: 0 the model config (ModelConfig, as inside an .eimodel and for
// `init --config`), 1 the training config (TrainConfig, `train --config`), 2 the paper's
// own config files as `import-ei` flattens them (OfficialEiImporter); the rest is the text.
#include "fuzz/FuzzFile.h"
#include "models/Error.h"
#include "models/ei/ModelConfig.h"
#include "models/import/OfficialEiImporter.h"
#include "models/train/TrainConfig.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        switch (data[0] % 3) {
        case 0:
            (void)ei::ModelConfig::fromJsonText(text, "fuzz.json");
            break;
        case 1:
            (void)ei::TrainConfig::fromFile(ei::fuzz::writeInput(data + 1, size - 1, ".json"));
            break;
        default: {
            const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
            if (!j.is_discarded())
                (void)ei::OfficialEiImporter::flattenOfficialConfig(j, "/dev/shm/eiview-fuzz-official/configs/c.json",
                                                                     ei::OfficialEiImporter::Options{});
        }
        }
    } catch (const ei::Error&) {
    }
    return 0;
}
