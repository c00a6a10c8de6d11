// Metrics of MODEL.md section 6. AP and the curves walk the scores in descending
// order, one step per distinct value, so tied scores move together (scikit-learn's
// rule); AUC uses average ranks (Mann-Whitney), which counts ties as one half.
#include "models/train/Metrics.h"

#include "models/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ei {
namespace {

void checkSizes(const std::vector<double>& scores, const std::vector<int>& labels)
{
    if (scores.size() != labels.size())
        throw UsageError("metrics: " + std::to_string(scores.size()) + " scores but " + std::to_string(labels.size()) +
                         " labels");
}

// Cumulative (false positives, true positives) at each distinct threshold, highest first.
struct ThresholdCounts {
    std::vector<double> fps, tps;
    double positives = 0, negatives = 0;
};

ThresholdCounts countsAtThresholds(const std::vector<double>& scores, const std::vector<int>& labels)
{
    checkSizes(scores, labels);
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    ThresholdCounts c;
    double tp = 0, fp = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
        if (labels[order[k]] > 0)
            tp += 1;
        else
            fp += 1;
        const bool lastOfTie = k + 1 == order.size() || scores[order[k + 1]] != scores[order[k]];
        if (lastOfTie) {
            c.tps.push_back(tp);
            c.fps.push_back(fp);
        }
    }
    c.positives = tp;
    c.negatives = fp;
    return c;
}

std::optional<double> mean(const std::vector<std::optional<double>>& values)
{
    double sum = 0;
    int n = 0;
    for (const auto& v : values)
        if (v) {
            sum += *v;
            ++n;
        }
    if (n == 0)
        return std::nullopt;
    return sum / n;
}

nlohmann::json toJson(const std::optional<double>& v)
{
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json toJson(const std::vector<std::optional<double>>& values)
{
    auto out = nlohmann::json::array();
    for (const auto& v : values)
        out.push_back(toJson(v));
    return out;
}

}  // namespace

std::optional<double> averagePrecision(const std::vector<double>& scores, const std::vector<int>& labels)
{
    const auto c = countsAtThresholds(scores, labels);
    if (c.positives == 0)
        return std::nullopt;
    double ap = 0, previousRecall = 0;
    for (std::size_t k = 0; k < c.tps.size(); ++k) {
        const double recall = c.tps[k] / c.positives;
        const double precision = c.tps[k] / (c.tps[k] + c.fps[k]);
        ap += (recall - previousRecall) * precision;
        previousRecall = recall;
    }
    return ap;
}

std::optional<double> rocAuc(const std::vector<double>& scores, const std::vector<int>& labels)
{
    checkSizes(scores, labels);
    const std::size_t n = scores.size();
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
    std::vector<double> rank(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j + 1 < n && scores[order[j + 1]] == scores[order[i]])
            ++j;
        const double average = 0.5 * (static_cast<double>(i) + static_cast<double>(j)) + 1.0;
        for (std::size_t k = i; k <= j; ++k)
            rank[order[k]] = average;
        i = j + 1;
    }
    double positives = 0, rankSum = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (labels[i] > 0) {
            positives += 1;
            rankSum += rank[i];
        }
    const double negatives = static_cast<double>(n) - positives;
    if (positives == 0 || negatives == 0)
        return std::nullopt;
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
}

std::vector<CurvePoint> precisionRecallCurve(const std::vector<double>& scores, const std::vector<int>& labels)
{
    const auto c = countsAtThresholds(scores, labels);
    std::vector<CurvePoint> points;
    if (c.positives == 0)
        return points;
    for (std::size_t k = 0; k < c.tps.size(); ++k) {
        points.push_back({c.tps[k] / c.positives, c.tps[k] / (c.tps[k] + c.fps[k])});
        if (c.tps[k] == c.positives)
            break;  // scikit-learn stops at full recall
    }
    return points;
}

std::vector<CurvePoint> rocCurve(const std::vector<double>& scores, const std::vector<int>& labels)
{
    const auto c = countsAtThresholds(scores, labels);
    std::vector<CurvePoint> points{{0, 0}};
    if (c.positives == 0 || c.negatives == 0)
        return {};
    for (std::size_t k = 0; k < c.tps.size(); ++k)
        points.push_back({c.fps[k] / c.negatives, c.tps[k] / c.positives});
    return points;
}

EvalMetrics evaluateClassification(const std::vector<std::vector<double>>& scores,
                                   const std::vector<std::vector<double>>& probabilities,
                                   const std::vector<std::vector<int>>& targets,
                                   const std::vector<std::string>& classes, bool multilabel)
{
    const std::size_t n = targets.size();
    const std::size_t numClasses = classes.size();
    if (scores.size() != n || probabilities.size() != n)
        throw UsageError("metrics: scores, probabilities and targets differ in length");
    for (std::size_t i = 0; i < n; ++i)
        if (scores[i].size() != numClasses || probabilities[i].size() != numClasses || targets[i].size() != numClasses)
            throw UsageError("metrics: row " + std::to_string(i) + " does not have one value per class");

    EvalMetrics m;
    m.classes = classes;
    m.n = static_cast<int>(n);
    m.multilabel = multilabel;

    // Predictions: arg-max (first maximum, as numpy) or p >= 0.5.
    std::vector<std::vector<int>> predicted(n, std::vector<int>(numClasses, 0));
    std::vector<int> predictedClass(n, 0), trueClass(n, -1);
    for (std::size_t i = 0; i < n; ++i) {
        if (multilabel) {
            for (std::size_t c = 0; c < numClasses; ++c)
                predicted[i][c] = probabilities[i][c] >= 0.5 ? 1 : 0;
        } else if (numClasses > 0) {
            const auto best = std::max_element(probabilities[i].begin(), probabilities[i].end()) - probabilities[i].begin();
            predictedClass[i] = static_cast<int>(best);
            predicted[i][best] = 1;
            for (std::size_t c = 0; c < numClasses; ++c)
                if (targets[i][c] > 0 && trueClass[i] < 0)
                    trueClass[i] = static_cast<int>(c);
        }
    }

    if (multilabel) {
        m.confusion.assign(numClasses, std::vector<int>(4, 0));
    } else {
        m.confusion.assign(numClasses, std::vector<int>(numClasses, 0));
        for (std::size_t i = 0; i < n; ++i)
            if (trueClass[i] >= 0)
                ++m.confusion[trueClass[i]][predictedClass[i]];
    }

    for (std::size_t c = 0; c < numClasses; ++c) {
        std::vector<double> column(n);
        std::vector<int> labels(n);
        double tp = 0, tn = 0, fp = 0, fn = 0;
        for (std::size_t i = 0; i < n; ++i) {
            column[i] = scores[i][c];
            labels[i] = targets[i][c] > 0 ? 1 : 0;
            const bool pred = predicted[i][c] > 0;
            if (labels[i] && pred) tp += 1;
            else if (labels[i]) fn += 1;
            else if (pred) fp += 1;
            else tn += 1;
        }
        if (multilabel)
            m.confusion[c] = {static_cast<int>(tn), static_cast<int>(fp), static_cast<int>(fn), static_cast<int>(tp)};
        const bool defined = tp + fn > 0 && tn + fp > 0;
        if (!defined) {
            m.undefined.push_back(classes[c]);
            m.ap.push_back(std::nullopt);
            m.auc.push_back(std::nullopt);
            m.s2.push_back(std::nullopt);
            m.sensitivity.push_back(std::nullopt);
            m.specificity.push_back(std::nullopt);
            m.pr.emplace_back();
            m.roc.emplace_back();
            continue;
        }
        const double sens = tp / (tp + fn);
        const double spec = tn / (tn + fp);
        m.sensitivity.push_back(sens);
        m.specificity.push_back(spec);
        m.s2.push_back(sens + spec > 0 ? 2 * sens * spec / (sens + spec) : 0.0);
        m.ap.push_back(averagePrecision(column, labels));
        m.auc.push_back(rocAuc(column, labels));
        m.pr.push_back(precisionRecallCurve(column, labels));
        m.roc.push_back(rocCurve(column, labels));
    }
    m.mAP = mean(m.ap);
    m.mAUC = mean(m.auc);
    m.mS2 = mean(m.s2);
    if (n > 0)
        m.uncalibrated = calibrationSummary(probabilities, targets, multilabel);
    return m;
}

nlohmann::json EvalMetrics::toJson() const
{
    nlohmann::json j;
    j["classes"] = classes;
    j["n"] = n;
    j["multilabel"] = multilabel;
    j["per_class"] = {{"AP", ei::toJson(ap)}, {"AUC", ei::toJson(auc)}, {"S2", ei::toJson(s2)},
                      {"sensitivity", ei::toJson(sensitivity)}, {"specificity", ei::toJson(specificity)}};
    j["mAP"] = ei::toJson(mAP);
    j["mAUC"] = ei::toJson(mAUC);
    j["mS2"] = ei::toJson(mS2);
    j["undefined"] = undefined;
    j["confusion"] = confusion;
    auto curves = [](const std::vector<std::vector<CurvePoint>>& perClass) {
        auto out = nlohmann::json::array();
        for (const auto& points : perClass) {
            auto c = nlohmann::json::array();
            for (const auto& p : points)
                c.push_back({p.x, p.y});
            out.push_back(c);
        }
        return out;
    };
    j["curves"] = {{"pr", curves(pr)}, {"roc", curves(roc)}};
    auto both = [&](auto member) {
        return nlohmann::json{{"uncalibrated", uncalibrated ? nlohmann::json(member(*uncalibrated)) : nlohmann::json(nullptr)},
                              {"calibrated", calibrated ? nlohmann::json(member(*calibrated)) : nlohmann::json(nullptr)}};
    };
    j["ece"] = both([](const CalibrationSummary& c) { return c.ece; });
    j["brier"] = both([](const CalibrationSummary& c) { return c.brier; });
    j["reliability"] = both([](const CalibrationSummary& c) {
        auto rows = nlohmann::json::array();
        for (const auto& b : c.bins)
            rows.push_back({b.lower, b.upper, b.count, b.confidence, b.accuracy});
        return rows;
    });
    if (!withoutModality.empty()) {
        j["without"] = nlohmann::json::object();
        for (const auto& w : withoutModality)
            j["without"][w.modality] = {{"mAP", ei::toJson(w.mAP)}, {"mAUC", ei::toJson(w.mAUC)}, {"mS2", ei::toJson(w.mS2)}};
    }
    return j;
}

CalibrationSummary calibrationSummary(const std::vector<std::vector<double>>& probabilities,
                                      const std::vector<std::vector<int>>& targets, bool multilabel, int bins)
{
    if (probabilities.size() != targets.size() || bins < 1)
        throw UsageError("calibration metrics: " + std::to_string(probabilities.size()) + " predictions but " +
                         std::to_string(targets.size()) + " targets");
    CalibrationSummary out;
    std::vector<double> confidenceSum(static_cast<std::size_t>(bins)), rightSum(static_cast<std::size_t>(bins));
    std::vector<int> counts(static_cast<std::size_t>(bins));
    std::size_t n = 0;
    double brier = 0;
    auto add = [&](double p, bool right) {
        const int k = std::clamp(static_cast<int>(std::ceil(p * bins)) - 1, 0, bins - 1);
        confidenceSum[k] += p;
        rightSum[k] += right ? 1.0 : 0.0;
        ++counts[k];
        ++n;
    };
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        const auto& p = probabilities[i];
        const auto& y = targets[i];
        if (p.size() != y.size())
            throw UsageError("calibration metrics: a prediction and its target differ in length");
        if (multilabel) {
            for (std::size_t c = 0; c < p.size(); ++c) {
                add(p[c], y[c] > 0);
                brier += (p[c] - y[c]) * (p[c] - y[c]);
            }
        } else if (!p.empty()) {
            const auto top = static_cast<std::size_t>(std::max_element(p.begin(), p.end()) - p.begin());
            add(p[top], y[top] > 0);
            for (std::size_t c = 0; c < p.size(); ++c)
                brier += (p[c] - y[c]) * (p[c] - y[c]);
        }
    }
    const double pairs = multilabel ? static_cast<double>(n) : static_cast<double>(probabilities.size());
    out.brier = pairs > 0 ? brier / pairs : 0.0;
    for (int k = 0; k < bins; ++k) {
        ReliabilityBin b;
        b.lower = static_cast<double>(k) / bins;
        b.upper = static_cast<double>(k + 1) / bins;
        b.count = counts[k];
        if (b.count > 0) {
            b.confidence = confidenceSum[k] / b.count;
            b.accuracy = rightSum[k] / b.count;
            out.ece += static_cast<double>(b.count) / static_cast<double>(n) * std::abs(b.accuracy - b.confidence);
        }
        out.bins.push_back(b);
    }
    return out;
}

}  // namespace ei
