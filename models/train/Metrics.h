// Evaluation metrics of MODEL.md section 6, shared by `eiview-cli eval`, the trainer's
// validation and the wizard's results page: per class one-vs-rest AP (scikit-learn's
// average_precision_score), ROC AUC (ties count half) and S2 (harmonic mean of
// sensitivity and specificity), their means over the classes that are defined in the
// split, PR / ROC curves and a confusion matrix. Plain C++ (no LibTorch) so the UI can
// hold the results.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace ei {

struct CurvePoint {
    double x = 0;  // recall (PR) or false positive rate (ROC)
    double y = 0;  // precision (PR) or true positive rate (ROC)
};

// labels: 1 positive, 0 negative. Both throw ei::UsageError on size mismatch; they
// return nullopt when the labels hold no positive (AP) or not both kinds (AUC).
std::optional<double> averagePrecision(const std::vector<double>& scores, const std::vector<int>& labels);
std::optional<double> rocAuc(const std::vector<double>& scores, const std::vector<int>& labels);
// One point per distinct threshold, as scikit-learn's precision_recall_curve / roc_curve
// (ROC starts at (0, 0); PR is ordered by increasing recall and ends at recall 0 excluded).
std::vector<CurvePoint> precisionRecallCurve(const std::vector<double>& scores, const std::vector<int>& labels);
std::vector<CurvePoint> rocCurve(const std::vector<double>& scores, const std::vector<int>& labels);

struct EvalMetrics {
    std::vector<std::string> classes;
    int n = 0;
    bool multilabel = false;
    std::vector<std::optional<double>> ap, auc, s2;           // per class; nullopt = undefined
    std::vector<std::optional<double>> sensitivity, specificity;
    std::optional<double> mAP, mAUC, mS2;                      // over defined classes
    std::vector<std::string> undefined;                        // classes lacking a positive or a negative
    // Single-label: C x C, rows = true class, columns = predicted class.
    // Multi-label: C rows of {TN, FP, FN, TP}.
    std::vector<std::vector<int>> confusion;
    std::vector<std::vector<CurvePoint>> pr, roc;              // per class (empty when undefined)

    // MODEL.md section 8 `eval` JSON (undefined values are null), plus "sensitivity",
    // "specificity", "confusion" and "curves": {"pr": per class [[recall, precision]...],
    // "roc": per class [[fpr, tpr]...]}.
    nlohmann::json toJson() const;
};

// scores: N rows of C values (probabilities, or logits with `--score logits`), used to
// rank AP / AUC. probabilities: what the prediction uses (arg-max single-label,
// p >= 0.5 multi-label); may be the same as scores. targets: N rows of C values 0/1.
EvalMetrics evaluateClassification(const std::vector<std::vector<double>>& scores,
                                   const std::vector<std::vector<double>>& probabilities,
                                   const std::vector<std::vector<int>>& targets,
                                   const std::vector<std::string>& classes, bool multilabel);

}  // namespace ei
