// eiview-cli: the EI engine without a window. Dispatches to the registered commands and
// turns ei::Error into the exit codes of MODEL.md section 8 (2 usage, 3 bad input,
// 4 model or weights); nothing else escapes as a crash.
#include "app/cli/CliCommand.h"

#include "models/Error.h"

#include <algorithm>
#include <exception>
#include <iostream>

namespace ei::cli {

std::vector<CliCommand>& cliCommands()
{
    static std::vector<CliCommand> commands;
    return commands;
}

namespace {

void printHelp(std::ostream& out)
{
    auto commands = cliCommands();
    std::sort(commands.begin(), commands.end(), [](const CliCommand& a, const CliCommand& b) { return a.name < b.name; });
    out << "eiview-cli " << EIVIEW_VERSION_STRING << ": the EIView engine without a window\n\n"
        << "Usage: eiview-cli COMMAND [OPTIONS]   (eiview-cli COMMAND --help for one command)\n\nCommands:\n";
    for (const auto& c : commands)
        out << "  " << c.name << std::string(c.name.size() < 16 ? 16 - c.name.size() : 1, ' ') << c.summary << "\n";
    out << "\nExit codes: 0 ok, 2 usage, 3 bad input, 4 model or weights problem.\n";
}

}  // namespace
}  // namespace ei::cli

int main(int argc, char** argv)
{
    using namespace ei::cli;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        printHelp(std::cerr);
        return 2;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        printHelp(std::cout);
        return 0;
    }
    if (args[0] == "--version") {
        std::cout << "eiview-cli " << EIVIEW_VERSION_STRING << "\n";
        return 0;
    }
    const auto& commands = cliCommands();
    const auto it = std::find_if(commands.begin(), commands.end(), [&](const CliCommand& c) { return c.name == args[0]; });
    if (it == commands.end()) {
        std::cerr << "eiview-cli: unknown command '" << args[0] << "' (eiview-cli --help lists them)\n";
        return 2;
    }
    try {
        CliArgs cliArgs(std::vector<std::string>(args.begin() + 1, args.end()));
        return it->run(cliArgs);
    } catch (const ei::Error& e) {
        std::cerr << "eiview-cli " << it->name << ": error: " << e.what() << "\n";
        if (e.kind() == ei::ErrorKind::Usage)
            std::cerr << "usage: " << it->synopsis << "\n";
        return e.exitCode();
    } catch (const std::exception& e) {
        // Anything not classified (e.g. a LibTorch error inside a model) is a model problem.
        std::cerr << "eiview-cli " << it->name << ": error: " << e.what() << "\n";
        return 4;
    }
}
