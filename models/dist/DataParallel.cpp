#include "models/dist/DataParallel.h"

#include <algorithm>
#include <chrono>

namespace ei {

void checkGlobalBatch(int batchSize, int worldSize, const std::string& source)
{
    if (worldSize > 1 && batchSize % worldSize != 0)
        throw BadInputError(source, "batch_size " + std::to_string(batchSize) + " is the global batch and must divide evenly among the " +
                                        std::to_string(worldSize) + " ranks (each takes batch_size / " +
                                        std::to_string(worldSize) + ")");
}

std::pair<int, int> DataParallel::shard(int count, int batchSize) const
{
    const int per = batchSize / worldSize();
    const int begin = std::min(count, rank() * per);
    const int end = rank() + 1 == worldSize() ? count : std::min(count, begin + per);
    return {begin, end};
}

void DataParallel::syncGradients(std::map<std::string, torch::Tensor>& params, int localCount, int globalCount) const
{
    if (!dist_)
        return;
    const auto start = std::chrono::steady_clock::now();
    torch::NoGradGuard noGrad;
    const double weight = globalCount > 0 ? static_cast<double>(localCount) / globalCount : 0.0;
    std::vector<torch::Tensor> grads;
    torch::Tensor defined = torch::zeros({static_cast<std::int64_t>(params.size())}, torch::kFloat);
    std::int64_t i = 0;
    for (auto& [name, p] : params) {
        const torch::Tensor g = p.grad();
        if (g.defined()) {
            grads.push_back(g.to(torch::kFloat) * weight);
            defined[i] = 1.0f;
        } else {
            grads.push_back(torch::zeros_like(p, p.options().dtype(torch::kFloat)));
        }
        ++i;
    }
    grads.push_back(defined);
    dist_->allReduceSum(grads);
    const torch::Tensor reached = grads.back();
    i = 0;
    for (auto& [name, p] : params) {
        const std::size_t k = static_cast<std::size_t>(i);
        if (reached[i].item<float>() > 0) {
            torch::Tensor sum = grads[k].to(p.scalar_type());
            if (p.grad().defined())
                p.mutable_grad().copy_(sum);
            else
                p.mutable_grad() = sum;
        }
        ++i;
    }
    syncSeconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> DataParallel::meanOverBatch(const std::vector<double>& local, int localCount, int globalCount) const
{
    if (!dist_ || local.empty())
        return local;
    const auto start = std::chrono::steady_clock::now();
    const double weight = globalCount > 0 ? static_cast<double>(localCount) / globalCount : 0.0;
    std::vector<torch::Tensor> values{torch::tensor(local, torch::kDouble) * weight};
    dist_->allReduceSum(values);
    syncSeconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return std::vector<double>(values[0].data_ptr<double>(), values[0].data_ptr<double>() + values[0].numel());
}

void DataParallel::broadcastParams(std::map<std::string, torch::Tensor>& params) const
{
    if (!dist_)
        return;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> tensors;
    for (auto& [name, p] : params)
        tensors.push_back(p.detach());
    dist_->broadcast(tensors);
}

}  // namespace ei
