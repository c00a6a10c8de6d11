#include "app/cli/DistributedArgs.h"

#include <chrono>

namespace ei::cli {

const std::set<std::string>& distributedOptionNames()
{
    static const std::set<std::string> names{"dist-url", "world-size", "rank", "dist-backend", "dist-timeout"};
    return names;
}

DistributedOptions distributedOptions(const CliArgs& args)
{
    DistributedOptions o = DistributedOptions::fromEnvironment();
    if (const auto url = args.value("dist-url"))
        o.setUrl(*url);
    if (args.has("world-size"))
        o.worldSize = args.intValueOr("world-size", 1);
    if (args.has("rank"))
        o.rank = args.intValueOr("rank", 0);
    o.backend = args.valueOr("dist-backend", "auto");
    o.timeout = std::chrono::seconds(args.intValueOr("dist-timeout", static_cast<int>(o.timeout.count())));
    o.validate();
    return o;
}

}  // namespace ei::cli
