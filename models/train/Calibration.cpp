// See Calibration.h.
#include "models/train/Calibration.h"

#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace ei {

namespace {

// Golden-section search for the minimum of a unimodal f on [a, b].
double goldenMinimum(const std::function<double(double)>& f, double a, double b)
{
    const double g = (std::sqrt(5.0) - 1.0) / 2.0;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = f(c), fd = f(d);
    for (int i = 0; i < 200 && b - a > 1e-10; ++i) {
        if (fc <= fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    return 0.5 * (a + b);
}

double logSigmoid(double x)
{
    return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

const double kLogBetaLimit = std::log(50.0);

}  // namespace

std::vector<double> probabilitiesOf(const std::vector<double>& logits, bool multilabel)
{
    std::vector<double> p(logits.size());
    if (multilabel) {
        for (std::size_t c = 0; c < logits.size(); ++c)
            p[c] = 1.0 / (1.0 + std::exp(-logits[c]));
        return p;
    }
    if (logits.empty())
        return p;
    const double top = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (std::size_t c = 0; c < logits.size(); ++c)
        sum += p[c] = std::exp(logits[c] - top);
    for (double& v : p)
        v /= sum;
    return p;
}

std::vector<double> TemperatureScaling::probabilities(const std::vector<double>& logits) const
{
    std::vector<double> z = logits;
    for (std::size_t c = 0; c < z.size() && !temperatures.empty(); ++c)
        z[c] /= temperatures[multilabel ? std::min(c, temperatures.size() - 1) : 0];
    return probabilitiesOf(z, multilabel);
}

std::vector<std::vector<double>> TemperatureScaling::probabilities(const std::vector<std::vector<double>>& logits) const
{
    std::vector<std::vector<double>> out;
    out.reserve(logits.size());
    for (const auto& row : logits)
        out.push_back(probabilities(row));
    return out;
}

nlohmann::json TemperatureScaling::toJson() const
{
    return {{"method", "temperature"}, {"temperatures", temperatures}, {"multilabel", multilabel},
            {"split", split},          {"n", fittedOn},                {"unfitted_classes", unfittedClasses}};
}

TemperatureScaling TemperatureScaling::fromJson(const nlohmann::json& j, const std::string& source)
{
    TemperatureScaling t;
    try {
        if (j.value("method", std::string()) != "temperature")
            throw ModelError(source, "calibration: unknown method (expected \"temperature\")");
        t.temperatures = j.at("temperatures").get<std::vector<double>>();
        t.multilabel = j.value("multilabel", false);
        t.split = j.value("split", std::string("val"));
        t.fittedOn = j.value("n", 0);
        t.unfittedClasses = j.value("unfitted_classes", std::vector<std::string>{});
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(source, std::string("calibration metadata is malformed: ") + e.what());
    }
    if (t.temperatures.empty() || (!t.multilabel && t.temperatures.size() != 1))
        throw ModelError(source, "calibration: a single-label model needs exactly one temperature");
    for (double v : t.temperatures)
        if (!std::isfinite(v) || v <= 0)
            throw ModelError(source, "calibration: temperatures must be finite and positive");
    return t;
}

TemperatureScaling TemperatureScaling::fromMetadata(const std::string& text, const std::string& source)
{
    if (text.empty())
        return {};
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw ModelError(source, std::string("calibration metadata is not JSON: ") + e.what());
    }
    return fromJson(j, source);
}

TemperatureScaling TemperatureScaling::fromMetadata(const std::map<std::string, std::string>& metadata,
                                                    std::size_t classes, bool multilabel, const std::string& source)
{
    const auto it = metadata.find("calibration");
    TemperatureScaling t = fromMetadata(it == metadata.end() ? std::string() : it->second, source);
    if (!t.empty() && t.temperatures.size() != (multilabel ? classes : 1))
        throw ModelError(source, "calibration: " + std::to_string(t.temperatures.size()) + " temperatures for a model of " +
                                     std::to_string(classes) +
                                     (multilabel ? " classes (multi-label: one per class)" : " classes (single-label: one)"));
    return t;
}

TemperatureScaling fitTemperature(const std::vector<std::vector<double>>& logits, const std::vector<std::vector<int>>& targets,
                                  bool multilabel, const std::vector<std::string>& classes)
{
    if (logits.empty() || logits.size() != targets.size())
        throw UsageError("calibration: needs predictions with one target row each (got " + std::to_string(logits.size()) +
                         " and " + std::to_string(targets.size()) + ")");
    const std::size_t N = logits.size(), C = logits[0].size();
    for (std::size_t i = 0; i < N; ++i)
        if (logits[i].size() != C || targets[i].size() != C)
            throw UsageError("calibration: rows of different lengths");
    TemperatureScaling t;
    t.multilabel = multilabel;
    t.fittedOn = static_cast<int>(N);
    if (!multilabel) {
        const auto nll = [&](double logBeta) {
            const double beta = std::exp(logBeta);
            double sum = 0;
            for (std::size_t i = 0; i < N; ++i) {
                double top = -INFINITY;
                for (double z : logits[i])
                    top = std::max(top, beta * z);
                double norm = 0;
                for (double z : logits[i])
                    norm += std::exp(beta * z - top);
                for (std::size_t c = 0; c < C; ++c)
                    if (targets[i][c] > 0)
                        sum -= beta * logits[i][c] - top - std::log(norm);
            }
            return sum / static_cast<double>(N);
        };
        t.temperatures = {1.0 / std::exp(goldenMinimum(nll, -kLogBetaLimit, kLogBetaLimit))};
        return t;
    }
    for (std::size_t c = 0; c < C; ++c) {
        std::size_t positives = 0;
        for (std::size_t i = 0; i < N; ++i)
            positives += targets[i][c] > 0 ? 1 : 0;
        if (positives == 0 || positives == N) {  // nothing to fit: T = 1
            t.temperatures.push_back(1.0);
            t.unfittedClasses.push_back(c < classes.size() ? classes[c] : std::to_string(c));
            continue;
        }
        const auto bce = [&](double logBeta) {
            const double beta = std::exp(logBeta);
            double sum = 0;
            for (std::size_t i = 0; i < N; ++i) {
                const double z = beta * logits[i][c];
                sum -= targets[i][c] > 0 ? logSigmoid(z) : logSigmoid(-z);
            }
            return sum / static_cast<double>(N);
        };
        t.temperatures.push_back(1.0 / std::exp(goldenMinimum(bce, -kLogBetaLimit, kLogBetaLimit)));
    }
    return t;
}

}  // namespace ei
