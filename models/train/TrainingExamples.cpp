// Training examples read on demand and kept within a byte budget (see TrainingExamples.h).
#include "models/train/TrainingExamples.h"

#include "models/Error.h"

namespace ei {

TrainingExamples::TrainingExamples(const TrainingData& data, std::size_t budgetBytes) : data_(data), budget_(budgetBytes) {}

std::vector<torch::Tensor> TrainingExamples::raw(int index)
{
    const auto i = static_cast<std::size_t>(index);
    if (!data_.readTrain)
        return data_.train.at(i).raw;
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = held_.find(index); it != held_.end()) {
        recent_.splice(recent_.begin(), recent_, it->second.position);
        return it->second.raw;
    }
    std::vector<torch::Tensor> raw = data_.readTrain(i);
    ++reads_;
    std::size_t bytes = 0;
    for (const auto& t : raw)
        if (t.defined())
            bytes += static_cast<std::size_t>(t.numel()) * t.element_size();
    if (bytes > budget_)
        return raw;  // larger than the whole budget: read again when needed
    while (heldBytes_ + bytes > budget_ && !recent_.empty()) {
        const int oldest = recent_.back();
        recent_.pop_back();
        heldBytes_ -= held_.at(oldest).bytes;
        held_.erase(oldest);
    }
    recent_.push_front(index);
    held_[index] = Held{raw, bytes, recent_.begin()};
    heldBytes_ += bytes;
    return raw;
}

long long TrainingExamples::takeReads()
{
    std::lock_guard<std::mutex> lock(mutex_);
    const long long n = reads_;
    reads_ = 0;
    return n;
}

std::size_t TrainingExamples::heldBytes() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return heldBytes_;
}

}  // namespace ei
