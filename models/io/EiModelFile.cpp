// Reading and writing .eimodel and backbone files.
#include "models/io/EiModelFile.h"

#include "models/Error.h"
#include "models/io/Safetensors.h"
#include "models/io/Sha256.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace ei {

namespace fs = std::filesystem;

namespace {

torch::Tensor asFloat(const torch::Tensor& t, const std::string& path, const std::string& name)
{
    const auto type = t.scalar_type();
    if (type != torch::kFloat && type != torch::kHalf && type != torch::kBFloat16 && type != torch::kDouble)
        throw ModelError(path, "tensor " + name + " has dtype " + safetensorsDtypeName(type) + ", expected F32, F16 or BF16");
    torch::Tensor f = t.to(torch::kFloat);
    // A NaN or infinite weight turns every prediction into NaN: refuse the file instead.
    if (f.numel() > 0 && !torch::isfinite(f).all().item<bool>())
        throw ModelError(path, "tensor " + name + " holds non-finite values (NaN or infinity): the file is damaged");
    return f;
}

// A referenced file must be a regular file (not a device or a pipe that never ends)
// of a size a weights file can have.
void checkReferencedFile(const std::string& model, const std::string& file)
{
    std::error_code ec;
    if (!fs::exists(file, ec))
        throw ModelError(model, "the referenced backbone file " + file + " does not exist");
    if (!fs::is_regular_file(file, ec))
        throw ModelError(model, "the referenced backbone file " + file + " is not a regular file");
    const auto size = fs::file_size(file, ec);
    if (ec || size < 16 || size > (64ULL << 30))
        throw ModelError(model, "the referenced backbone file " + file + " has an implausible size (" + std::to_string(size) + " bytes)");
}

bool ignoredBackboneTensor(const std::string& name)
{
    return name == "mask_token" || name == "head.weight" || name == "head.bias";
}

BackboneConfig backboneConfigFrom(const std::map<std::string, std::string>& metadata, const std::string& path)
{
    const auto it = metadata.find("config");
    if (it == metadata.end())
        throw ModelError(path, "no 'config' metadata: not a backbone file (eiview-cli import-backbone writes one)");
    try {
        return BackboneConfig::fromJson(nlohmann::json::parse(it->second), path, "config.");
    } catch (const nlohmann::json::exception&) {
        throw ModelError(path, "the 'config' metadata is not valid JSON");
    } catch (const Error& e) {
        throw ModelError("", e.what());
    }
}

}  // namespace

std::map<std::string, std::string> EiModelFile::readMetadata(const std::string& path)
{
    if (!fs::exists(path))
        throw ModelError(path, "no such model file");
    auto metadata = readSafetensorsMetadata(path);
    const auto format = metadata.find("format");
    if (format == metadata.end() || format->second != "eiview-model")
        throw ModelError(path, "not an EIView model (metadata 'format' is not \"eiview-model\")");
    const auto version = metadata.find("format_version");
    if (version == metadata.end() || version->second != "1")
        throw ModelError(path, "unsupported format_version '" + (version == metadata.end() ? "" : version->second) +
                                   "' (this EIView reads version 1)");
    return metadata;
}

ModelConfig EiModelFile::configOf(const std::map<std::string, std::string>& metadata, const std::string& path)
{
    const auto it = metadata.find("config");
    if (it == metadata.end())
        throw ModelError(path, "no 'config' metadata");
    try {
        return ModelConfig::fromJsonText(it->second, path);
    } catch (const Error& e) {
        // A bad config inside a model file is a model problem, not bad user input.
        throw ModelError("", e.what());
    }
}

LoadedEiModel EiModelFile::read(const std::string& path)
{
    LoadedEiModel out;
    out.metadata = readMetadata(path);
    const ModelConfig config = configOf(out.metadata, path);
    SafetensorsFile file = readSafetensors(path);
    out.integrityChecked = checkTensorDigest(file, path);

    std::map<std::string, torch::Tensor> params, backboneWeights;
    for (auto& [name, t] : file.tensors) {
        if (name.rfind("backbone.", 0) == 0)
            backboneWeights[name.substr(9)] = asFloat(t, path, name);
        else
            params[name] = asFloat(t, path, name);
    }
    std::shared_ptr<VisionTransformer> backbone;
    const auto ref = out.metadata.find("backbone_file");
    if (ref != out.metadata.end()) {
        if (!backboneWeights.empty())
            throw ModelError(path, "holds backbone tensors and also references backbone_file");
        const auto sha = out.metadata.find("backbone_sha256");
        if (sha == out.metadata.end())
            throw ModelError(path, "references backbone_file but has no backbone_sha256");
        fs::path bpath = fs::path(ref->second);
        if (bpath.is_relative())
            bpath = fs::absolute(fs::path(path)).parent_path() / bpath;
        out.backbonePath = bpath.lexically_normal().string();
        checkReferencedFile(path, out.backbonePath);
        const std::string actual = Sha256::ofFile(out.backbonePath);
        if (actual != sha->second)
            throw ModelError(path, "SHA-256 mismatch of the referenced backbone " + out.backbonePath + " (expected " +
                                       sha->second + ", file has " + actual + ")");
        backbone = readBackbone(out.backbonePath, /*verifyTensors=*/false);  // its file SHA-256 matched above
        const BackboneConfig& b = backbone->config();
        const BackboneConfig& c = config.backbone;
        if (b.family != c.family || b.patchSize != c.patchSize || b.embedDim != c.embedDim || b.depth != c.depth ||
            b.numHeads != c.numHeads || b.numRegisterTokens != c.numRegisterTokens || b.posGrid != c.posGrid)
            throw ModelError(path, "the referenced backbone " + out.backbonePath + " does not match the model's backbone config");
        // The model's config decides the run-time options (eps, interpolation, padding).
        backbone = std::make_shared<VisionTransformer>(c, backbone->weights(), out.backbonePath);
    } else {
        if (backboneWeights.empty())
            throw ModelError(path, "holds no backbone tensors and references no backbone_file");
        backbone = std::make_shared<VisionTransformer>(config.backbone, std::move(backboneWeights), path);
    }
    out.model = std::make_shared<EiModel>(config, backbone, std::move(params), path);
    return out;
}

void EiModelFile::write(const std::string& path, const EiModel& model, const EiModelWriteOptions& options)
{
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& [name, t] : model.parameters())
        tensors[name] = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    std::map<std::string, std::string> metadata{{"format", "eiview-model"},
                                                {"format_version", "1"},
                                                {"config", model.config().toJsonText()}};
    if (!options.trainingJson.empty())
        metadata["training"] = options.trainingJson;
    if (!options.intendedUse.empty())
        metadata["intended_use"] = options.intendedUse;
    if (!options.calibrationJson.empty())
        metadata["calibration"] = options.calibrationJson;
    if (options.backbonePath.empty()) {
        for (const auto& [name, t] : model.backbone().weights())
            tensors["backbone." + name] = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    } else {
        const fs::path outDir = fs::absolute(fs::path(path)).parent_path();
        metadata["backbone_file"] = fs::absolute(options.backbonePath).lexically_relative(outDir).generic_string();
        metadata["backbone_sha256"] = Sha256::ofFile(options.backbonePath);
    }
    metadata[kTensorDigestKey] = tensorDigest(tensors);
    writeSafetensors(path, tensors, metadata);
}

BackboneConfig EiModelFile::readBackboneConfig(const std::string& path)
{
    if (!fs::exists(path))
        throw ModelError(path, "no such backbone file");
    return backboneConfigFrom(readSafetensorsMetadata(path), path);
}

std::shared_ptr<VisionTransformer> EiModelFile::readBackbone(const std::string& path, bool verifyTensors)
{
    if (!fs::exists(path))
        throw ModelError(path, "no such backbone file");
    SafetensorsFile file = readSafetensors(path);
    if (verifyTensors)
        checkTensorDigest(file, path);
    const BackboneConfig config = backboneConfigFrom(file.metadata, path);
    std::map<std::string, torch::Tensor> weights;
    for (auto& [name, t] : file.tensors)
        if (!ignoredBackboneTensor(name))
            weights[name] = asFloat(t, path, name);
    return std::make_shared<VisionTransformer>(config, std::move(weights), path);
}

void EiModelFile::writeBackbone(const std::string& path, const VisionTransformer& backbone)
{
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& [name, t] : backbone.weights())
        tensors[name] = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    writeSafetensors(path, tensors, {{"config", backbone.config().toJson().dump()}, {kTensorDigestKey, tensorDigest(tensors)}});
}

}  // namespace ei
