// How long-running work (inference, training, import) reports progress and learns that
// it was cancelled, without knowing about Qt: the UI (or the CLI) supplies the callback
// and owns the flag. Work calls checkpoint() between stages; a cancelled job throws
// ei::Cancelled, which is not an error and is never shown as one.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <string>

namespace ei {

class Cancelled : public std::exception {
public:
    const char* what() const noexcept override { return "cancelled by the user"; }
};

struct JobControl {
    // fraction in [0, 1]; stage is a short human-readable name ("CFP: auxiliary pass").
    std::function<void(double fraction, const std::string& stage)> onProgress;
    const std::atomic<bool>* cancelFlag = nullptr;

    bool cancelled() const { return cancelFlag && cancelFlag->load(std::memory_order_relaxed); }
    void report(double fraction, const std::string& stage) const
    {
        if (onProgress)
            onProgress(fraction, stage);
    }
    // Reports, then throws ei::Cancelled if the flag is set.
    void checkpoint(double fraction, const std::string& stage) const
    {
        report(fraction, stage);
        if (cancelled())
            throw Cancelled();
    }
    // The same flag, with progress mapped into [from, to] of this control's range: a part
    // of a larger job (one file of several) reports its own fraction in [0, 1].
    JobControl part(double from, double to) const
    {
        JobControl sub;
        sub.cancelFlag = cancelFlag;
        if (onProgress) {
            auto parent = onProgress;
            sub.onProgress = [parent, from, to](double fraction, const std::string& stage) {
                parent(from + (to - from) * fraction, stage);
            };
        }
        return sub;
    }
};

}  // namespace ei
