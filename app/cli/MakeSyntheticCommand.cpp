// `eiview-cli make-synthetic --out DIR [--kind cfp-oct|knee] [--n N] [--seed S] [--size PX]
// [--slices S]`: writes a synthetic data set of core/data/SyntheticData (manifest.csv, PNGs or
// .npy volumes, findings.csv) and prints its split and label counts as JSON.
#include "app/cli/CliCommand.h"

#include "core/data/SyntheticData.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {
namespace {

int runMakeSynthetic(CliArgs& args)
{
    args.parse({"out", "n", "seed", "size", "kind", "slices"}, {});
    if (args.helpRequested()) {
        std::cout << "eiview-cli make-synthetic --out DIR [--kind cfp-oct|knee] [--n N] [--seed S] [--size PX] [--slices S]\n";
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    SyntheticOptions options;
    options.studies = args.intValueOr("n", options.studies);
    options.seed = static_cast<unsigned>(args.intValueOr("seed", static_cast<int>(options.seed)));
    options.size = args.intValueOr("size", options.size);
    options.kind = args.valueOr("kind", options.kind);
    options.slices = args.intValueOr("slices", options.slices);
    const auto summary = writeSyntheticDataset(args.required("out"), options);
    nlohmann::json j{{"manifest", summary.manifestPath}, {"studies", summary.studies},
                     {"splits", {{"train", summary.train}, {"val", summary.val}, {"test", summary.test}}},
                     {"labels", {{"lesion", summary.positives}, {"normal", summary.studies - summary.positives}}},
                     {"modalities", summary.modalities}, {"kind", options.kind}, {"seed", options.seed}, {"size", options.size}};
    if (options.kind == "knee")
        j["slices"] = options.slices;
    std::cout << j.dump(2) << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"make-synthetic",
                "eiview-cli make-synthetic --out DIR [--kind cfp-oct|knee] [--n N] [--seed S] [--size PX] [--slices S]",
                "write a seeded synthetic CFP + OCT (or three-view knee MRI) data set whose label needs two modalities",
                runMakeSynthetic});

}  // namespace ei::cli
