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

// Calibration of probabilities against outcomes. Single-label: a study's confidence is
// its top probability and it is correct when the top class is its label; multi-label:
// every (study, class) probability against its 0/1 label. Bins: `bins` equal parts of
// [0, 1], a value v in bin k when k/bins < v <= (k+1)/bins (0 in the first).
// ECE = sum_k n_k / n |accuracy_k - confidence_k|. Brier: single-label the mean over
// studies of sum_c (p_c - y_c)^2 (0..2); multi-label the mean over (study, class) of
// (p - y)^2 (scikit-learn's brier_score_loss on the flattened pairs).
struct ReliabilityBin {
    double lower = 0, upper = 0;
    int count = 0;
    double confidence = 0;  // mean predicted probability in the bin (0 when empty)
    double accuracy = 0;    // observed frequency of being right / positive
};
struct CalibrationSummary {
    double ece = 0;
    double brier = 0;
    std::vector<ReliabilityBin> bins;
};
CalibrationSummary calibrationSummary(const std::vector<std::vector<double>>& probabilities,
                                      const std::vector<std::vector<int>>& targets, bool multilabel, int bins = 15);

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
    std::optional<CalibrationSummary> uncalibrated;             // of the probabilities evaluated (n > 0)
    std::optional<CalibrationSummary> calibrated;               // with the model's stored calibration
    struct Without {                                           // the same split with one modality missing
        std::string modality;
        std::optional<double> mAP, mAUC, mS2;
    };
    std::vector<Without> withoutModality;

    // MODEL.md section 8 `eval` JSON (undefined values are null), plus "sensitivity",
    // "specificity", "confusion" and "curves": {"pr": per class [[recall, precision]...],
    // "roc": per class [[fpr, tpr]...]}, "ece" and "brier": {"uncalibrated", "calibrated"}
    // (null where not computed), "reliability": the same two as lists of [lower, upper,
    // count, confidence, accuracy], and "without": {modality: {"mAP", "mAUC", "mS2"}}
    // when evaluated with each modality left out.
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
