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
    std::vector<float> defined;  // 1 where this rank has a gradient
    for (auto& [name, p] : params) {
        const torch::Tensor g = p.grad();
        defined.push_back(g.defined() ? 1.0f : 0.0f);
        grads.push_back(g.defined() ? g.to(torch::kFloat) * weight : torch::zeros_like(p, p.options().dtype(torch::kFloat)));
    }
    grads.push_back(torch::tensor(defined, torch::kFloat));
    dist_->allReduceSum(grads);
    const torch::Tensor reached = grads.back().contiguous();  // on how many ranks each gradient exists
    const float* ranks = reached.data_ptr<float>();
    std::size_t k = 0;
    for (auto& [name, p] : params) {
        if (ranks[k] > 0) {
            torch::Tensor sum = grads[k].to(p.scalar_type());
            if (p.grad().defined())
                p.mutable_grad().copy_(sum);
            else
                p.mutable_grad() = sum;
        }
        ++k;
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
