#include "models/dist/DistributedOptions.h"

#include "models/Error.h"

#include <cstdlib>

namespace ei {
namespace {

int intFromEnvironment(const char* name, int fallback, int lowest)
{
    const char* text = std::getenv(name);
    if (!text || !*text)
        return fallback;
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (*end != '\0' || v < lowest || v > 1 << 20)
        throw UsageError(std::string("environment variable ") + name + "='" + text + "' is not a valid number");
    return static_cast<int>(v);
}

}  // namespace

DistributedOptions DistributedOptions::fromEnvironment()
{
    DistributedOptions o;
    o.worldSize = intFromEnvironment("WORLD_SIZE", 1, 1);
    o.rank = intFromEnvironment("RANK", 0, 0);
    o.localRank = intFromEnvironment("LOCAL_RANK", 0, 0);
    o.masterPort = intFromEnvironment("MASTER_PORT", 29500, 1);
    if (const char* addr = std::getenv("MASTER_ADDR"))
        o.masterAddr = addr;
    return o;
}

void DistributedOptions::setUrl(const std::string& url)
{
    const std::string scheme = "tcp://";
    const auto colon = url.rfind(':');
    if (url.compare(0, scheme.size(), scheme) != 0 || colon == std::string::npos || colon < scheme.size() + 1)
        throw UsageError("--dist-url must be tcp://HOST:PORT, not '" + url + "'");
    masterAddr = url.substr(scheme.size(), colon - scheme.size());
    const std::string port = url.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || p < 1 || p > 65535)
        throw UsageError("--dist-url: '" + port + "' is not a port number");
    masterPort = static_cast<int>(p);
}

void DistributedOptions::validate() const
{
    if (worldSize < 1)
        throw UsageError("the world size must be at least 1");
    if (rank < 0 || rank >= worldSize)
        throw UsageError("rank " + std::to_string(rank) + " is outside the world of " + std::to_string(worldSize) +
                         " ranks (0 to " + std::to_string(worldSize - 1) + ")");
    if (worldSize > 1 && masterAddr.empty())
        throw UsageError("a distributed run needs rank 0's address: MASTER_ADDR (or --dist-url tcp://HOST:PORT)");
    if (masterPort < 1 || masterPort > 65535)
        throw UsageError("MASTER_PORT must be a port number (1 to 65535)");
    if (backend != "auto" && backend != "gloo" && backend != "nccl")
        throw UsageError("--dist-backend must be auto, gloo or nccl, not '" + backend + "'");
    if (timeout.count() < 1)
        throw UsageError("--dist-timeout must be at least 1 second");
}

}  // namespace ei
