// eiview-cli import: DICOM files and folders into the local study database.
#include "app/cli/CliCommand.h"

#include "core/pacs/StudyDatabase.h"
#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {

namespace {

int runImport(CliArgs& args)
{
    args.parse({"db"}, {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli import --db DIR FILE_OR_DIR...\n"
                     "  Copies DICOM instances into the study database in DIR (created when absent) and indexes them\n"
                     "  by patient, study and series. Importing again is harmless (same SOP Instance UID, same\n"
                     "  instance). All or nothing: an interrupted import leaves the database as it was. Folders\n"
                     "  are walked; DICOMDIRs and files that are not DICOM in them are skipped and counted.\n"
                     "  Search it with eiview-cli find --db DIR.\n";
        return 0;
    }
    if (args.positional().empty())
        throw UsageError("name at least one FILE_OR_DIR to import");
    StudyDatabase database(args.required("db"));
    const ImportResult result = database.import(args.positional(), [](int done, int total) {
        if (done == total || done % 10 == 0)
            std::cerr << "import: " << done << "/" << total << "\n";
        return true;
    });
    std::cout << nlohmann::json{{"added", result.added},
                                {"already", result.already},
                                {"skipped", result.skipped},
                                {"studies", result.studyUids}}
                     .dump(2)
              << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"import", "eiview-cli import --db DIR FILE_OR_DIR...", "import DICOM into the local study database", runImport});

}  // namespace ei::cli
