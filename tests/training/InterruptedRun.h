// A training run stopped inside its second epoch (the first step of epoch 2 cancels it):
// the checkpoint of epoch 1 is left to resume from.
#pragma once

#include "core/training/TrainingJob.h"
#include "models/Error.h"
#include "models/JobControl.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <atomic>

namespace ei::test {

inline void interruptedRun(const ei::TrainingRequest& request)
{
    std::atomic<bool> cancel{false};
    ei::JobControl control;
    control.cancelFlag = &cancel;
    QVERIFY_THROWS_EXCEPTION(ei::Cancelled, ei::runTraining(request, [&](const std::string& line) {
        const auto e = nlohmann::json::parse(line);
        if (e["event"] == "step" && e["epoch"] == 2)
            cancel = true;
    }, &control));
}

}  // namespace ei::test
