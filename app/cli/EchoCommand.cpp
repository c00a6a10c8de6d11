// eiview-cli echo: "Test connection", a DICOM C-ECHO to a node.
#include "app/cli/CliCommand.h"
#include "app/cli/PacsArgs.h"
#include "models/Error.h"

#include <iostream>

namespace ei::cli {

namespace {

int runEcho(CliArgs& args)
{
    args.parse(pacsOptionNames({}), {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli echo --node AET@HOST:PORT|URL" << kPacsSynopsis << "\n"
                  << "  Verifies that the node answers: a DICOM C-ECHO from EIView's AE title, or a QIDO-RS search.\n" << kPacsHelp;
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    const DicomNode node = pacsNode(args);
    connectTo(node, nodeOptions(args))->echo();
    std::cout << "echo: " << node.toString() << " answered\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"echo", std::string("eiview-cli echo --node AET@HOST:PORT|URL") + kPacsSynopsis,
                "does a PACS answer EIView? (C-ECHO or QIDO-RS)", runEcho});

}  // namespace ei::cli
