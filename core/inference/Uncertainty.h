// How far to trust a result, in numbers and in words a clinician reads at a glance
// (issue 16): whether the fused probabilities are calibrated, and how evenly the gate
// spread the fusion over the modalities it had (its entropy). Widget-free: the
// prediction panel shows it, the export JSON carries it.
#pragma once

#include "core/inference/InferenceResult.h"

#include <string>

namespace ei {

struct Uncertainty {
    bool calibrated = false;
    std::string calibrationText;  // "Calibrated (temperature 1.42, fitted on 40 validation studies)"
    // Gate entropy over the modalities used, in nats, and divided by its maximum log(P):
    // 0 = one modality decided alone, 1 = all weighed equally. Defined when P >= 2.
    bool gateDefined = false;
    double gateEntropy = 0;
    double gateEvenness = 0;
    std::string gateText;         // "Relied mostly on CFP (0.91)" / "Weighed CFP and OCT about equally"
};

Uncertainty describeUncertainty(const InferenceResult& result);

}  // namespace ei
