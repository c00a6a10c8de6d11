// eiview-cli find: a C-FIND on a node at study or series level, the matches as JSON.
#include "app/cli/CliCommand.h"
#include "app/cli/PacsArgs.h"
#include "core/pacs/StudyDatabase.h"
#include "models/Error.h"
#include "models/io/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ei::cli {

namespace {

int runFind(CliArgs& args)
{
    args.parse(pacsOptionNames({"level", "patient-id", "patient-name", "study-date", "modality", "accession", "study", "description", "json", "db"}), {});
    if (args.helpRequested()) {
        std::cout << "usage: eiview-cli find (--node N | --db DIR) [--level study|series] [--patient-id X] [--patient-name X]\n"
                     "       [--study-date YYYYMMDD[-YYYYMMDD]] [--modality M] [--accession A] [--description D]\n       [--study UID] [--json OUT]"
                  << kPacsSynopsis << "\n"
                  << "  Queries the node (Study Root C-FIND) and prints the matches as a JSON list, one object per\n"
                     "  study or series, keyed by DICOM keyword (StudyInstanceUID, PatientName, ...).\n"
                     "  --db DIR searches the local study database (eiview-cli import) instead of a node.\n"
                     "  Names take DICOM wildcards: --patient-name 'DOE^*'. A series query needs --study.\n"
                  << kPacsHelp;
        return 0;
    }
    args.expectPositional(0, "no positional arguments");
    DicomQuery query;
    const std::string level = args.valueOr("level", "study");
    if (level != "study" && level != "series")
        throw UsageError("--level must be study or series, not '" + level + "'");
    query.level = level == "study" ? DicomQuery::Level::Study : DicomQuery::Level::Series;
    query.patientId = args.valueOr("patient-id", "");
    query.patientName = args.valueOr("patient-name", "");
    query.studyDate = args.valueOr("study-date", "");
    query.modality = args.valueOr("modality", "");
    query.accession = args.valueOr("accession", "");
    query.studyUid = args.valueOr("study", "");
    query.description = args.valueOr("description", "");
    if (args.has("node") == args.has("db"))
        throw UsageError("give either --node (a PACS) or --db (the local study database)");
    const auto matches = args.has("db") ? StudyDatabase(args.required("db")).find(query)
                                        : connectTo(pacsNode(args), nodeOptions(args))->find(query);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& match : matches)
        list.push_back(match);
    const std::string text = list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (const auto json = args.value("json"))
        writeFileAtomically(*json, text);
    else
        std::cout << text;
    std::cerr << "find: " << matches.size() << (level == "study" ? " studies" : " series") << "\n";
    return 0;
}

}  // namespace

EI_CLI_COMMAND({"find",
                std::string("eiview-cli find (--node N | --db DIR) [--level study|series] [--patient-id X] [--patient-name X] "
                            "[--study-date YYYYMMDD[-YYYYMMDD]] [--modality M] [--accession A] [--description D] [--study UID] [--json OUT]") +
                    kPacsSynopsis,
                "search a PACS (C-FIND, QIDO-RS) or the local database", runFind});

}  // namespace ei::cli
