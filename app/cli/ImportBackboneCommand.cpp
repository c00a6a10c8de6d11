// `eiview-cli import-backbone --in WEIGHTS --out BACKBONE.safetensors [--family auto|dinov2|clip]
// [--heads N]`: converts DINOv2 / CLIP weights in any supported naming scheme (safetensors
// or torch.save .pth) into an EIView backbone file and prints what it found as JSON.
#include "app/cli/CliCommand.h"

#include "models/import/BackboneImporter.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

const char* kSynopsis =
    "eiview-cli import-backbone --in WEIGHTS(.safetensors|.pth) [--family auto|dinov2|clip] [--heads N] "
    "--out BACKBONE.safetensors";

int parseHeads(const CliArgs& args)
{
    const auto v = args.value("heads");
    if (!v)
        return 0;
    try {
        std::size_t used = 0;
        const int n = std::stoi(*v, &used);
        if (used == v->size() && n > 0 && n <= 4096)
            return n;
    } catch (const std::exception&) {
    }
    throw UsageError("--heads needs a positive integer, got '" + *v + "'");
}

int runImportBackbone(CliArgs& args)
{
    args.parse({"in", "out", "family", "heads"}, {});
    if (args.helpRequested()) {
        std::cout << kSynopsis << "\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    BackboneImporter::Options options;
    options.family = args.valueOr("family", "auto");
    options.heads = parseHeads(args);
    const std::string in = args.required("in");
    const std::string out = args.required("out");
    const auto backbone = BackboneImporter::importFile(in, options);
    BackboneImporter::write(out, backbone);
    const nlohmann::json summary{{"in", in}, {"out", out}, {"scheme", backbone.scheme},
                                 {"tensors", backbone.tensors.size()}, {"config", backbone.config}};
    std::cout << summary.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"import-backbone", kSynopsis,
                "convert DINOv2 / CLIP weights (official, Hugging Face, timm, OpenAI) to an EIView backbone",
                runImportBackbone});

}  // namespace ei::cli
