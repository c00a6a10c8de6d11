// eiview-bench's table of benchmarks. Each lives in its own file and registers itself
// with EI_BENCH_COMMAND, so adding one touches no shared file (as eiview-cli's commands).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace ei::bench {

struct BenchCommand {
    std::string name;
    std::string usage;    // one line of options
    std::string summary;  // one sentence for `eiview-bench --help`
    std::function<int(const std::vector<std::string>&)> run;  // returns the exit code
};

std::vector<BenchCommand>& benchCommands();

struct BenchRegistration {
    explicit BenchRegistration(BenchCommand command) { benchCommands().push_back(std::move(command)); }
};

}  // namespace ei::bench

#define EI_BENCH_CONCAT_INNER(a, b) a##b
#define EI_BENCH_CONCAT(a, b) EI_BENCH_CONCAT_INNER(a, b)
#define EI_BENCH_COMMAND(...) \
    static const ::ei::bench::BenchRegistration EI_BENCH_CONCAT(eiBenchRegistration_, __LINE__)(::ei::bench::BenchCommand __VA_ARGS__)
