// See Uncertainty.h.
#include "core/inference/Uncertainty.h"

#include <cmath>
#include <cstdio>

namespace ei {

namespace {

std::string fixed(double v, int digits)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

}  // namespace

Uncertainty describeUncertainty(const InferenceResult& r)
{
    Uncertainty u;
    u.calibrated = r.calibrated();
    if (u.calibrated) {
        std::string t;
        if (r.temperatures.size() == 1) {
            t = "temperature " + fixed(r.temperatures[0], 2);
        } else {
            double lo = r.temperatures[0], hi = r.temperatures[0];
            for (double v : r.temperatures) {
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            t = "temperatures " + fixed(lo, 2) + "\u2013" + fixed(hi, 2) + " per class";
        }
        u.calibrationText = "Calibrated (" + t + ", fitted on " + std::to_string(r.calibrationStudies) + " " +
                            (r.calibrationSplit == "val" ? std::string("validation") : r.calibrationSplit) + " studies)";
    } else {
        u.calibrationText = "Not calibrated: the model file holds no calibration, so a probability is the model's raw "
                            "score and may be over- or under-confident";
    }

    std::vector<std::pair<std::string, double>> used;
    for (std::size_t m = 0; m < r.gate.size() && m < r.modalities.size(); ++m)
        if (!r.modalities[m].missing)
            used.emplace_back(r.modalities[m].name, r.gate[m]);
    if (used.size() < 2) {
        u.gateText = used.empty() ? std::string() : "Only " + used[0].first + " was available to the fusion";
        return u;
    }
    u.gateDefined = true;
    std::size_t top = 0;
    for (std::size_t i = 0; i < used.size(); ++i) {
        const double g = used[i].second;
        if (g > 0)
            u.gateEntropy -= g * std::log(g);
        if (g > used[top].second)
            top = i;
    }
    u.gateEvenness = u.gateEntropy / std::log(static_cast<double>(used.size()));
    const std::string lead = used[top].first + " (" + fixed(used[top].second, 2) + ")";
    if (u.gateEvenness >= 0.9) {
        std::string names;
        for (std::size_t i = 0; i < used.size(); ++i)
            names += (i == 0 ? "" : i + 1 == used.size() ? " and " : ", ") + used[i].first;
        u.gateText = "Weighed " + names + " about equally";
    } else if (u.gateEvenness >= 0.5) {
        u.gateText = "Leaned on " + lead + ", the others counted too";
    } else {
        u.gateText = "Relied almost only on " + lead;
    }
    return u;
}

}  // namespace ei
