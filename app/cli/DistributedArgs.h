// The options of a data-parallel rank, shared by `train` and `predict`: the launcher's
// environment (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK), overridden by
// --dist-url tcp://HOST:PORT, --world-size N, --rank R, --dist-backend, --dist-timeout.
#pragma once

#include "app/cli/CliArgs.h"
#include "models/dist/DistributedOptions.h"

#include <set>
#include <string>

namespace ei::cli {

// The option names to declare with CliArgs::parse.
const std::set<std::string>& distributedOptionNames();
// The usage text of those options.
inline constexpr const char* kDistributedSynopsis =
    " [--dist-url tcp://HOST:PORT --world-size N --rank R] [--dist-backend auto|gloo|nccl] [--dist-timeout SECONDS]";
// UsageError for a bad value or an impossible combination.
DistributedOptions distributedOptions(const CliArgs& args);

}  // namespace ei::cli
