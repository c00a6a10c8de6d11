// Data-parallel runs over several processes on PyTorch's own distributed layer, c10d
// (issue 17): rendezvous through a TCPStore hosted by rank 0, a Gloo process group on
// the CPU (NCCL on CUDA where LibTorch was built with it), and the few collectives the
// trainer and the batch scorer need. The c10d headers stay in the .cpp.
//
// Launcher conventions as PyTorch users know them (torchrun, Slurm scripts): MASTER_ADDR,
// MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK in the environment, or the same given
// explicitly (`--dist-url tcp://HOST:PORT --world-size N --rank R`).
//
// Every collective is bounded by the timeout: a rank that dies or hangs ends the run on
// every other rank with a ei::DistributedError naming what was awaited, never a hang.
#pragma once

#include "models/Error.h"
#include "models/dist/DistributedOptions.h"

#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ei {

// A collective that failed: a peer that exited, stopped answering within the timeout, or
// could not be reached at rendezvous. Exit code 3 (the run's input, the cluster, is bad).
class DistributedError : public Error {
public:
    explicit DistributedError(const std::string& message) : Error(ErrorKind::BadInput, message) {}
};


// The device of a rank: a CUDA device becomes LOCAL_RANK's GPU on its machine; the CPU
// stays the CPU.
inline torch::Device rankDevice(const torch::Device& device, int localRank)
{
    return device.is_cuda() ? torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(localRank)) : device;
}

class Distributed {
public:
    // Rendezvous with the other ranks and create the process group. `device`: where the
    // tensors of the collectives live (decides the backend under "auto").
    static std::shared_ptr<Distributed> connect(const DistributedOptions& options, const torch::Device& device);
    ~Distributed();

    int rank() const;
    int worldSize() const;
    int localRank() const;
    bool isMain() const { return rank() == 0; }
    std::string backend() const;

    // Sum over the ranks, in place, of tensors on the group's device. Small tensors are
    // packed into buckets (one collective per bucket, as DDP does).
    void allReduceSum(std::vector<torch::Tensor>& tensors);
    // Rank `root`'s values everywhere, in place.
    void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
    // Rank `root`'s bytes on every rank (whatever the others pass).
    std::string broadcastBytes(const std::string& bytes, int root = 0);
    double broadcastValue(double value);
    // Whether every rank is ready: each passes its own problem ("" = none); all return
    // the first rank's problem, prefixed with that rank, or "" when none had one.
    std::string agree(const std::string& problem);
    void barrier();

private:
    Distributed();
    struct Private;
    std::unique_ptr<Private> d;
};

}  // namespace ei
