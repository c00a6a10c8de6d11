// Where and as which rank a data-parallel run starts (models/dist/Distributed.h). No
// LibTorch here: core/ and ui/ headers carry these options.
#pragma once

#include <chrono>
#include <string>

namespace ei {

struct DistributedOptions {
    std::string masterAddr;   // host of rank 0's TCPStore
    int masterPort = 29500;
    int worldSize = 1;
    int rank = 0;
    int localRank = 0;        // CUDA device index on this node
    std::string backend = "auto";  // auto: nccl on a CUDA device where built in, else gloo
    std::chrono::seconds timeout{600};

    bool enabled() const { return worldSize > 1; }

    // From MASTER_ADDR / MASTER_PORT / WORLD_SIZE / RANK / LOCAL_RANK; worldSize 1 (not
    // distributed) when WORLD_SIZE is unset. UsageError naming the variable for a bad value.
    static DistributedOptions fromEnvironment();
    // "tcp://HOST:PORT" into masterAddr / masterPort; UsageError otherwise.
    void setUrl(const std::string& url);
    // UsageError for an impossible combination (rank outside [0, worldSize), no address).
    void validate() const;
};

}  // namespace ei
