// libFuzzer target: a model or backbone file as EIView reads it (models/io/EiModelFile):
// the safetensors header and data, the metadata, the config JSON, tensor names, shapes,
// dtypes and digest, and the calibration metadata. The first byte picks the reader
// (even: .eimodel, odd: standalone backbone); the rest is the file.
#include "fuzz/FuzzFile.h"
#include "models/Error.h"
#include "models/io/EiModelFile.h"
#include "models/train/Calibration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1)
        return 0;
    const bool backbone = (data[0] & 1) != 0;
    const std::string path = ei::fuzz::writeInput(data + 1, size - 1, backbone ? ".safetensors" : ".eimodel");
    try {
        if (backbone) {
            (void)ei::EiModelFile::readBackbone(path);
        } else {
            const ei::LoadedEiModel m = ei::EiModelFile::read(path);
            if (const auto it = m.metadata.find("calibration"); it != m.metadata.end())
                (void)ei::TemperatureScaling::fromMetadata(it->second, path);
        }
    } catch (const ei::Error&) {
    }
    return 0;
}
