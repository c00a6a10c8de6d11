// eiview-cli's command table. Each command lives in its own file under app/cli/ and
// registers itself with EI_CLI_COMMAND, so adding a command touches no shared file.
// Commands parse their arguments (CliArgs) and wire core/ and models/ calls; the work
// itself lives in those libraries (one engine for the GUI and the CLI).
#pragma once

#include "app/cli/CliArgs.h"

#include <functional>
#include <string>
#include <vector>

namespace ei::cli {

struct CliCommand {
    std::string name;
    std::string synopsis;  // one usage line, as in MODEL.md section 8
    std::string summary;   // one sentence for `eiview-cli --help`
    std::function<int(CliArgs&)> run;  // returns the exit code; throws ei::Error on failure
};

std::vector<CliCommand>& cliCommands();

struct CliCommandRegistration {
    explicit CliCommandRegistration(CliCommand command) { cliCommands().push_back(std::move(command)); }
};

}  // namespace ei::cli

#define EI_CLI_CONCAT_INNER(a, b) a##b
#define EI_CLI_CONCAT(a, b) EI_CLI_CONCAT_INNER(a, b)
// Usage: EI_CLI_COMMAND({"inspect", "eiview-cli inspect FILE ...", "what the loaders made of a file", runInspect});
#define EI_CLI_COMMAND(...) \
    static const ::ei::cli::CliCommandRegistration EI_CLI_CONCAT(eiCliRegistration_, __LINE__)(::ei::cli::CliCommand __VA_ARGS__)
