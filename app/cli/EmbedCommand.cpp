// `eiview-cli embed --backbone B (--image FILE [--size HxW] | --input-tensor X.npy)
// --out TOKENS.npy [--device D] [--precision P]`: the backbone's final normed tokens [1 + R + N, d] for one image
// (CLS, registers, patches), e.g. to compare features with another implementation.
#include "app/cli/CliCommand.h"

#include "core/io/ImageLoader.h"
#include "core/study/Preprocess.h"
#include "models/Device.h"
#include "models/io/EiModelFile.h"
#include "models/Error.h"
#include "models/Precision.h"
#include "models/io/NpyFile.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

const char* kSynopsis =
    "eiview-cli embed --backbone B (--image FILE [--size HxW] | --input-tensor X.npy) --out TOKENS.npy"
    " [--device auto|cpu|cuda[:k]] [--precision auto|fp32|tf32|bf16|fp16]";

std::pair<int, int> parseSize(const std::string& v)
{
    const auto x = v.find('x');
    try {
        if (x != std::string::npos && v.find_first_not_of("0123456789x") == std::string::npos) {
            const int h = std::stoi(v.substr(0, x)), w = std::stoi(v.substr(x + 1));
            if (h > 0 && w > 0 && h <= 8192 && w <= 8192)
                return {h, w};
        }
    } catch (const std::exception&) {
    }
    throw UsageError("--size needs HxW (e.g. 448x448), got '" + v + "'");
}

int runEmbed(CliArgs& args)
{
    args.parse({"backbone", "image", "size", "input-tensor", "out", "device", "precision"}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const std::string backbonePath = args.required("backbone");
    const std::string out = args.required("out");
    if (args.has("image") == args.has("input-tensor"))
        throw UsageError("give exactly one of --image and --input-tensor");
    if (args.has("size") && !args.has("image"))
        throw UsageError("--size goes with --image");
    configureCpuThreads();
    // The CPU unless asked: embeddings are compared with other implementations, fp32.
    const torch::Device device = resolveDevice(args.valueOr("device", "cpu"));
    const Precision precision = resolvePrecision(parsePrecision(args.valueOr("precision", "auto")), device);
    const auto backbone = EiModelFile::readBackbone(backbonePath);
    backbone->to(device);
    const BackboneConfig& c = backbone->config();

    torch::Tensor x;
    if (const auto image = args.value("image")) {
        ModelInputSpec spec;
        spec.height = c.posGrid[0] * c.patchSize;
        spec.width = c.posGrid[1] * c.patchSize;
        if (const auto size = args.value("size"))
            std::tie(spec.height, spec.width) = parseSize(*size);
        if (c.family != "clip") {
            spec.mean = {0.485f, 0.456f, 0.406f};
            spec.std = {0.229f, 0.224f, 0.225f};
        }
        x = preprocessForModel(loadImage(*image), spec);
        if (x.size(0) != 1)
            x = x.narrow(0, x.size(0) / 2, 1);  // a volume: its middle chosen slice
    } else {
        const std::string path = *args.value("input-tensor");
        NpyArray a = readNpy(path);
        if (a.shape.size() == 3)
            a.shape.insert(a.shape.begin(), 1);
        if (a.shape.size() != 4 || a.shape[0] != 1 || a.shape[1] != 3 || a.shape[2] < 1 || a.shape[3] < 1)
            throw BadInputError(path, "input tensor must be [1,3,H,W] float32");
        x = torch::from_blob(a.values.data(), a.shape, torch::kFloat).clone();
    }
    torch::Tensor tokens;
    {
        torch::InferenceMode guard;
        const MatmulPrecisionScope matmulPrecision(precision, device);
        BackboneCall call;
        call.computeType = computeType(precision);
        try {
            tokens = backbone->forward(x, call).tokens[0].to(torch::kCPU).contiguous();
        } catch (const BadInputError& e) {
            throw BadInputError(args.valueOr("image", args.valueOr("input-tensor", "")), e.what());
        }
    }
    writeNpy(out, tokens.sizes().vec(), tokens.data_ptr<float>());
    std::cout << nlohmann::json{{"out", out}, {"shape", tokens.sizes().vec()}}.dump() << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"embed", kSynopsis, "write a backbone's final normed tokens for one image", runEmbed});

}  // namespace ei::cli
