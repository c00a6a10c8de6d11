// eiview-cli inspect: what the loaders made of a file, series folder or DICOMDIR, as JSON
// (MODEL.md section 8), and its pixels as .npy with --out.
#include "app/cli/CliCommand.h"

#include "core/report/InspectReport.h"
#include "models/io/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {

namespace {

int runInspect(CliArgs& args)
{
    args.parse({"out", "json", "series"}, {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli inspect FILE_OR_DIR [--out PIXELS.npy] [--json OUT] [--series UID]\n"
                     "  Reports what the loaders made of a file, a DICOM series folder or a DICOMDIR.\n"
                     "  --out writes the pixels as float32 [S,H,W,C] after the modality transform (RGB for colour).\n"
                     "  --series picks one series of a folder or DICOMDIR (default: the first).\n";
        return 0;
    }
    args.expectPositional(1, "FILE_OR_DIR");
    const auto report = InspectReport::inspect(args.positional().front(), args.valueOr("series", ""));
    if (const auto out = args.value("out"))
        report.writePixels(*out);
    const std::string text = report.toJson().dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (const auto json = args.value("json"))
        writeFileAtomically(*json, text);
    else
        std::cout << text;
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"inspect", "eiview-cli inspect FILE_OR_DIR [--out PIXELS.npy] [--json OUT] [--series UID]",
                "what the loaders made of a file, series folder or DICOMDIR", runInspect});

}  // namespace ei::cli
