// eiview-cli retrieve: a study or series from a node into a folder, by C-GET or by C-MOVE
// to EIView's own receiver.
#include "app/cli/CliCommand.h"
#include "app/cli/PacsArgs.h"
#include "models/Error.h"
#include <iostream>

namespace ei::cli {

namespace {

int runRetrieve(CliArgs& args)
{
    args.parse(pacsOptionNames({"study", "series", "out", "method", "port"}), {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli retrieve --node AET@HOST:PORT|URL --study UID [--series UID] --out DIR [--method get|move] "
                     "[--port P]"
                  << kPacsSynopsis << "\n"
                  << "  Retrieves a study (or one series) into DIR/<Series Instance UID>/<SOP Instance UID>.dcm.\n"
                     "  get (default): C-GET, over the same association. move: C-MOVE to EIView's receiver, which\n"
                     "  listens on --port (default 11112) under the calling AE title; the node must know both.\n"
                     "  A DICOMweb node (URL) is read by WADO-RS; nothing is written before its whole answer arrived.\n"
                  << kPacsHelp;
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    RetrieveRequest request;
    request.studyUid = args.required("study");
    request.seriesUid = args.valueOr("series", "");
    request.outDir = args.required("out");
    const std::string method = args.valueOr("method", "get");
    if (method != "get" && method != "move")
        throw UsageError("--method must be get or move, not '" + method + "'");
    request.method = method == "get" ? RetrieveRequest::Method::Get : RetrieveRequest::Method::Move;
    request.receiverPort = args.intValueOr("port", request.receiverPort);
    const DicomNode node = pacsNode(args);
    if (node.isDicomWeb() && (args.has("method") || args.has("port")))
        throw UsageError("--method and --port are DIMSE options; a DICOMweb node is read by WADO-RS");
    const TransferResult result = connectTo(node, nodeOptions(args))->retrieve(request, printProgress("retrieve"));
    return reportTransfer("retrieve", node, result, {{"method", method}, {"out", request.outDir}});
}

}  // namespace

EI_CLI_COMMAND({"retrieve",
                std::string("eiview-cli retrieve --node AET@HOST:PORT|URL --study UID [--series UID] --out DIR [--method get|move] "
                            "[--port P]") +
                    kPacsSynopsis,
                "pull a study or series from a PACS (C-GET or C-MOVE)", runRetrieve});

}  // namespace ei::cli
