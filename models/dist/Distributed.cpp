// c10d behind models/dist/Distributed.h. Debian's LibTorch exports TCPStore and
// ProcessGroupGloo (headers: libgloo-dev); a CUDA LibTorch built with NCCL adds
// ProcessGroupNCCL. Where neither backend is in the build, connect() says so.
#include "models/dist/Distributed.h"

#if defined(USE_C10D_GLOO) && __has_include(<gloo/config.h>)
#define EIVIEW_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#define EIVIEW_HAVE_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if defined(EIVIEW_HAVE_GLOO) || defined(EIVIEW_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#endif

#include <cstdlib>
#include <cstring>

namespace ei {
namespace {

// DDP's default: 25 MiB per all-reduce.
constexpr std::int64_t kBucketBytes = 25 << 20;

// A c10 error's message without the C++ stack trace it appends.
std::string firstLine(const std::exception& e)
{
    std::string text = e.what();
    if (const auto nl = text.find('\n'); nl != std::string::npos)
        text.resize(nl);
    return text;
}

}  // namespace

struct Distributed::Private {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    std::string backend;
    torch::Device device{torch::kCPU};
    std::chrono::seconds timeout{600};
#if defined(EIVIEW_HAVE_GLOO) || defined(EIVIEW_HAVE_NCCL)
    c10::intrusive_ptr<c10d::Store> store;
    // LibTorch 2 made the backends (Gloo, NCCL) subclasses of c10d::Backend; 1.13's are
    // process groups themselves. Both have the collectives used here.
#if TORCH_VERSION_MAJOR >= 2
    c10::intrusive_ptr<c10d::Backend> group;
#else
    c10::intrusive_ptr<c10d::ProcessGroup> group;
#endif
#endif

    // Waits for a collective; a dead or silent peer becomes a DistributedError.
    template <typename Work>
    void wait(const Work& work, const std::string& what)
    {
        try {
            work->wait(timeout);
        } catch (const std::exception& e) {
            throw DistributedError("rank " + std::to_string(rank) + " of " + std::to_string(worldSize) + ": " + what +
                                   " failed (a rank exited or did not answer within " + std::to_string(timeout.count()) +
                                   " s): " + firstLine(e));
        }
    }
};

Distributed::Distributed() : d(std::make_unique<Private>()) {}
Distributed::~Distributed() = default;

int Distributed::rank() const { return d->rank; }
int Distributed::worldSize() const { return d->worldSize; }
int Distributed::localRank() const { return d->localRank; }
std::string Distributed::backend() const { return d->backend; }

std::shared_ptr<Distributed> Distributed::connect(const DistributedOptions& options, const torch::Device& device)
{
    options.validate();
    std::shared_ptr<Distributed> dist(new Distributed());
    Private& P = *dist->d;
    P.rank = options.rank;
    P.worldSize = options.worldSize;
    P.localRank = options.localRank;
    P.device = device;
    P.timeout = options.timeout;
    P.backend = options.backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : options.backend;
#if defined(EIVIEW_HAVE_GLOO) || defined(EIVIEW_HAVE_NCCL)
    const std::string where = options.masterAddr + ":" + std::to_string(options.masterPort);
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(options.masterPort);
        so.isServer = options.rank == 0;
        so.numWorkers = static_cast<std::size_t>(options.worldSize);
        so.waitWorkers = true;
        so.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
        P.store = c10::make_intrusive<c10d::TCPStore>(options.masterAddr, so);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(options.rank) + " of " + std::to_string(options.worldSize) +
                               ": no rendezvous at " + where + " within " + std::to_string(options.timeout.count()) +
                               " s (" + firstLine(e) + ")");
    }
    if (P.backend == "nccl") {
#if defined(EIVIEW_HAVE_NCCL)
        if (!device.is_cuda())
            throw UsageError("--dist-backend nccl needs a CUDA device");
        auto o = c10d::ProcessGroupNCCL::Options::create();
        o->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
        P.group = c10::make_intrusive<c10d::ProcessGroupNCCL>(P.store, options.rank, options.worldSize, o);
        return dist;
#else
        if (options.backend == "nccl")
            throw UsageError("this LibTorch has no NCCL; use --dist-backend gloo");
        P.backend = "gloo";  // auto on a CUDA device without NCCL: Gloo copies through the host
#endif
    }
#if defined(EIVIEW_HAVE_GLOO)
    P.device = torch::kCPU;  // Gloo's collectives run on host copies
    auto o = c10d::ProcessGroupGloo::Options::create(std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout));
    // The address the peers reach this rank on: GLOO_SOCKET_IFNAME's interface when set
    // (as PyTorch), loopback for a run on one machine, else this host's name.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    else if (options.masterAddr == "127.0.0.1" || options.masterAddr == "localhost")
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    o->threads = 2;
    try {
        P.group = c10::make_intrusive<c10d::ProcessGroupGloo>(P.store, options.rank, options.worldSize, o);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(options.rank) + ": the Gloo process group did not form (" + firstLine(e) + ")");
    }
    return dist;
#else
    throw UsageError("this LibTorch has no Gloo process group (c10d); a distributed run is not possible with this build");
#endif
#else
    (void)options;
    throw UsageError("this LibTorch has no c10d backend (Gloo or NCCL); a distributed run is not possible with this build");
#endif
}

void Distributed::allReduceSum(std::vector<torch::Tensor>& tensors)
{
#if defined(EIVIEW_HAVE_GLOO) || defined(EIVIEW_HAVE_NCCL)
    torch::NoGradGuard noGrad;
    std::size_t start = 0;
    while (start < tensors.size()) {
        // One bucket: tensors of one dtype, up to kBucketBytes (at least one).
        std::size_t end = start;
        std::int64_t bytes = 0;
        const auto type = tensors[start].scalar_type();
        while (end < tensors.size() && tensors[end].scalar_type() == type &&
               (end == start || bytes + tensors[end].nbytes() <= static_cast<std::size_t>(kBucketBytes))) {
            bytes += static_cast<std::int64_t>(tensors[end].nbytes());
            ++end;
        }
        // Each tensor moved to the group's device first: a bucket may mix host and device
        // tensors (the trainer's gradients on the GPU and its "has a gradient" flags).
        std::vector<torch::Tensor> flat;
        for (std::size_t i = start; i < end; ++i)
            flat.push_back(tensors[i].reshape({-1}).to(d->device));
        std::vector<at::Tensor> bucket{torch::cat(flat).contiguous()};
        d->wait(d->group->allreduce(bucket), "an all-reduce of " + std::to_string(bytes) + " bytes");
        std::int64_t offset = 0;
        for (std::size_t i = start; i < end; ++i) {
            const std::int64_t n = tensors[i].numel();
            tensors[i].copy_(bucket[0].narrow(0, offset, n).view(tensors[i].sizes()));
            offset += n;
        }
        start = end;
    }
#else
    (void)tensors;
#endif
}

void Distributed::broadcast(std::vector<torch::Tensor>& tensors, int root)
{
#if defined(EIVIEW_HAVE_GLOO) || defined(EIVIEW_HAVE_NCCL)
    torch::NoGradGuard noGrad;
    for (auto& t : tensors) {
        std::vector<at::Tensor> one{t.to(d->device).contiguous()};
        c10d::BroadcastOptions o;
        o.rootRank = root;
        d->wait(d->group->broadcast(one, o), "a broadcast");
        if (one[0].data_ptr() != t.data_ptr())
            t.copy_(one[0]);
    }
#else
    (void)tensors;
    (void)root;
#endif
}

std::string Distributed::broadcastBytes(const std::string& bytes, int root)
{
    std::vector<torch::Tensor> size{torch::tensor({static_cast<std::int64_t>(bytes.size())}, torch::kLong)};
    broadcast(size, root);
    const std::int64_t n = size[0].item<std::int64_t>();
    std::vector<torch::Tensor> data{torch::zeros({std::max<std::int64_t>(n, 1)}, torch::kUInt8)};
    if (rank() == root && n > 0)
        std::memcpy(data[0].data_ptr(), bytes.data(), static_cast<std::size_t>(n));
    broadcast(data, root);
    const torch::Tensor host = data[0].to(torch::kCPU).contiguous();
    return std::string(static_cast<const char*>(host.data_ptr()), static_cast<std::size_t>(n));
}

double Distributed::broadcastValue(double value)
{
    std::vector<torch::Tensor> v{torch::tensor({value}, torch::kDouble)};
    broadcast(v);
    return v[0].item<double>();
}

std::string Distributed::agree(const std::string& problem)
{
    // The lowest rank with a problem speaks for all: a one-hot flag per rank is summed,
    // then the first flagged rank broadcasts its text.
    std::vector<torch::Tensor> flags{torch::zeros({worldSize()}, torch::kDouble)};
    if (!problem.empty())
        flags[0][rank()] = 1.0;
    allReduceSum(flags);
    const torch::Tensor failed = flags[0].nonzero();
    if (failed.numel() == 0)
        return {};
    const int first = static_cast<int>(failed[0][0].item<std::int64_t>());
    return "rank " + std::to_string(first) + ": " + broadcastBytes(problem, first);
}

void Distributed::barrier()
{
    std::vector<torch::Tensor> one{torch::zeros({1}, torch::kDouble)};
    allReduceSum(one);
}

}  // namespace ei
