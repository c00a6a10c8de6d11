// A fine-tuning data set: the CSV manifest of ARCHITECTURE.md ("Study and data set
// conventions"): a header `id,split,label,<modality>...`, one study per row, paths
// relative to the CSV, `split` train / val / test, `label` one class name or several
// joined by ';' (multi-label). Reading never stops at the first problem: every problem
// (missing file, unreadable image, unknown class, missing modality column, empty split,
// malformed row) is collected with its row number, so the wizard and `train` can show
// them all before any training starts. Row numbers are CSV line numbers (header = 1).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ei {

struct ManifestRow {
    int row = 0;                        // line number in the CSV
    std::string id;
    std::string split;                  // "train", "val" or "test"
    std::vector<std::string> labels;    // class names
    std::vector<std::string> files;     // absolute paths, one per modality (manifest order)
};

struct ManifestProblem {
    int row = 0;  // 0: the file as a whole (e.g. a missing column or an empty split)
    std::string problem;
    std::string text() const { return row > 0 ? "row " + std::to_string(row) + ": " + problem : problem; }
};

struct ManifestOptions {
    // Modality columns the model needs, in model order; empty = every column after label.
    std::vector<std::string> modalities;
    // Known classes; empty = the sorted set of names found in the labels.
    std::vector<std::string> classes;
    bool multilabel = false;
    // Splits that must not be empty.
    std::vector<std::string> requiredSplits{"train", "val"};
    // Called for each existing file; throws ei::Error when the image cannot be used.
    // Empty = only existence is checked.
    std::function<void(const std::string& path)> checkImage;
    // Scoring a whole archive (`eiview-cli predict`): labels are not needed (an empty label
    // or a name outside `classes` is kept unchecked), the split may be empty, and an empty
    // modality cell is a study without that modality (its entry in `files` is empty).
    bool scoring = false;
};

class Manifest {
public:
    // Reads the CSV. A file that cannot be opened or has no header throws
    // ei::BadInputError; everything else lands in problems().
    static Manifest read(const std::string& path, const ManifestOptions& options = {});

    const std::string& path() const { return path_; }
    const std::vector<std::string>& modalities() const { return modalities_; }
    const std::vector<std::string>& classes() const { return classes_; }
    bool multilabel() const { return multilabel_; }
    const std::vector<ManifestRow>& rows() const { return rows_; }
    const std::vector<ManifestProblem>& problems() const { return problems_; }
    std::vector<const ManifestRow*> split(const std::string& name) const;

    // split -> class -> number of studies carrying that class.
    std::map<std::string, std::map<std::string, int>> classCounts() const;
    std::map<std::string, int> splitCounts() const;

    // Adds problems found elsewhere (the image checks of the other ranks of a
    // data-parallel run), leaving out those already listed; all are then in row order.
    void addProblems(const std::vector<ManifestProblem>& more);
    // Throws ei::BadInputError "<csv>: N problem(s): row 3: ...; row 7: ..." if any.
    void throwIfProblems() const;
    // One-hot / multi-hot target of a row over classes().
    std::vector<float> target(const ManifestRow& row) const;

private:
    static void flagLikelyTypos(Manifest& m);
    std::string path_;
    std::vector<std::string> modalities_;
    std::vector<std::string> classes_;
    bool multilabel_ = false;
    std::vector<ManifestRow> rows_;
    std::vector<ManifestProblem> problems_;
};

}  // namespace ei
