// eiview-cli store: DICOM files (or folders of them) to a node by C-STORE.
#include "app/cli/CliCommand.h"
#include "app/cli/PacsArgs.h"
#include "core/io/DicomDirectory.h"
#include "models/Error.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace ei::cli {

namespace {

// Files named on the command line are sent (and refused if they are not DICOM); folders
// are walked (listDicomFiles): the files that start like DICOM are sent.
std::vector<std::string> filesToSend(const std::vector<std::string>& paths, int& skipped)
{
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    for (const auto& path : paths) {
        std::error_code ec;
        if (fs::is_regular_file(path, ec)) {
            files.push_back(path);
            continue;
        }
        if (!fs::is_directory(path, ec))
            throw BadInputError(path, "no such file or folder");
        const std::vector<std::string> found = listDicomFiles(path, skipped);
        files.insert(files.end(), found.begin(), found.end());
    }
    return files;
}

int runStore(CliArgs& args)
{
    args.parse(pacsOptionNames({}), {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli store --node AET@HOST:PORT|URL FILE_OR_DIR..." << kPacsSynopsis << "\n"
                  << "  Sends DICOM files to the node (C-STORE), each in its own transfer syntax (or decompressed\n"
                     "  where the node accepts only that). Folders are walked; files in them that are not DICOM\n"
                     "  are skipped and counted. A named file that is not DICOM stops the command before sending.\n"
                  << kPacsHelp;
        return 0;
    }
    if (args.positional().empty())
        throw UsageError("name at least one FILE_OR_DIR to send");
    const DicomNode node = pacsNode(args);
    const NodeOptions options = nodeOptions(args);
    int skipped = 0;
    const auto files = filesToSend(args.positional(), skipped);
    if (files.empty())
        throw BadInputError(args.positional().front(), "holds no DICOM file to send");
    if (skipped > 0)
        std::cerr << "store: skipped " << skipped << " file(s) that are not DICOM instances\n";
    const TransferResult result = connectTo(node, options)->store(files, printProgress("store"));
    return reportTransfer("store", node, result, {{"skipped", skipped}});
}

}  // namespace

EI_CLI_COMMAND({"store", std::string("eiview-cli store --node AET@HOST:PORT|URL FILE_OR_DIR...") + kPacsSynopsis,
                "send DICOM files to a PACS (C-STORE or STOW-RS)", runStore});

}  // namespace ei::cli
