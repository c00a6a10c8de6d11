// eiview-bench: performance benchmarks (not tests). Dispatches to the registered
// benchmarks; an ei::Error becomes its exit code, as in eiview-cli.
#include "bench/BenchCommand.h"

#include "models/Error.h"

#include <algorithm>
#include <exception>
#include <iostream>

namespace ei::bench {

std::vector<BenchCommand>& benchCommands()
{
    static std::vector<BenchCommand> commands;
    return commands;
}

}  // namespace ei::bench

int main(int argc, char** argv)
{
    using namespace ei::bench;
    std::vector<std::string> args(argv + 1, argv + argc);
    const auto& commands = benchCommands();
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::ostream& out = args.empty() ? std::cerr : std::cout;
        out << "Usage: eiview-bench BENCHMARK [OPTIONS]\n\nBenchmarks:\n";
        for (const auto& c : commands)
            out << "  " << c.name << "  " << c.summary << "\n      options: " << c.usage << "\n";
        return args.empty() ? 2 : 0;
    }
    const auto it = std::find_if(commands.begin(), commands.end(), [&](const BenchCommand& c) { return c.name == args[0]; });
    if (it == commands.end()) {
        std::cerr << "eiview-bench: unknown benchmark '" << args[0] << "'\n";
        return 2;
    }
    try {
        return it->run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const ei::Error& e) {
        std::cerr << "eiview-bench " << it->name << ": error: " << e.what() << "\n";
        return e.exitCode();
    } catch (const std::exception& e) {
        std::cerr << "eiview-bench " << it->name << ": error: " << e.what() << "\n";
        return 4;
    }
}
