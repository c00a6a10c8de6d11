// Reads and checks a data set manifest (see Manifest.h). Problems never quote the id
// column (it may be a patient identifier): rows are named by their line number.
#include "core/data/Manifest.h"

#include "core/data/Csv.h"

#include "models/Error.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ei {
namespace {

namespace fs = std::filesystem;

std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos)
        return "";
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
}

// Folds a label for comparison: lower case, common Latin accents dropped.
std::string foldLabel(const std::string& label)
{
    static const std::pair<const char*, char> accents[] = {
        {"\xc3\xa0", 'a'}, {"\xc3\xa1", 'a'}, {"\xc3\xa2", 'a'}, {"\xc3\xa4", 'a'}, {"\xc3\xa8", 'e'},
        {"\xc3\xa9", 'e'}, {"\xc3\xaa", 'e'}, {"\xc3\xab", 'e'}, {"\xc3\xac", 'i'}, {"\xc3\xad", 'i'},
        {"\xc3\xae", 'i'}, {"\xc3\xaf", 'i'}, {"\xc3\xb2", 'o'}, {"\xc3\xb3", 'o'}, {"\xc3\xb4", 'o'},
        {"\xc3\xb6", 'o'}, {"\xc3\xb9", 'u'}, {"\xc3\xba", 'u'}, {"\xc3\xbb", 'u'}, {"\xc3\xbc", 'u'},
        {"\xc3\xb1", 'n'}, {"\xc3\xa7", 'c'}};
    std::string out;
    for (std::size_t i = 0; i < label.size();) {
        bool replaced = false;
        for (const auto& [utf8, ascii] : accents)
            if (label.compare(i, 2, utf8) == 0) {
                out += ascii;
                i += 2;
                replaced = true;
                break;
            }
        if (!replaced) {
            const unsigned char c = static_cast<unsigned char>(label[i++]);
            if (c != ' ' && c != '_' && c != '-')
                out += static_cast<char>(std::tolower(c));
        }
    }
    return out;
}

// Levenshtein distance, for short labels.
std::size_t editDistance(const std::string& a, const std::string& b)
{
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        prev.swap(cur);
    }
    return prev[b.size()];
}

std::vector<std::string> splitLabels(const std::string& text)
{
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ';')) {
        item = trim(item);
        if (!item.empty())
            out.push_back(item);
    }
    return out;
}

}  // namespace

Manifest Manifest::read(const std::string& path, const ManifestOptions& options)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw BadInputError(path, "cannot open the manifest");
    Manifest m;
    m.path_ = path;
    m.multilabel_ = options.multilabel;
    const fs::path base = fs::absolute(fs::path(path)).parent_path();

    std::string line;
    int lineNo = 0;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        ++lineNo;
        if (lineNo == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0)
            line.erase(0, 3);  // UTF-8 byte order mark (spreadsheet exports)
        if (!trim(line).empty()) {
            header = splitCsvLine(line);
            break;
        }
    }
    if (header.empty())
        throw BadInputError(path, "the manifest is empty (expected a header id,split,label,<modality>...)");
    for (auto& h : header)
        h = trim(h);
    const int headerRow = lineNo;
    auto column = [&](const std::string& name) {
        const auto it = std::find(header.begin(), header.end(), name);
        return it == header.end() ? -1 : static_cast<int>(it - header.begin());
    };
    const int idCol = column("id"), splitCol = column("split"), labelCol = column("label");
    for (const auto& [name, col] : {std::pair<const char*, int>{"id", idCol}, {"split", splitCol}, {"label", labelCol}})
        if (col < 0)
            m.problems_.push_back({headerRow, std::string("column '") + name + "' is missing from the header"});

    std::vector<int> modalityCols;
    if (options.modalities.empty()) {
        for (int c = 0; c < static_cast<int>(header.size()); ++c)
            if (c != idCol && c != splitCol && c != labelCol) {
                m.modalities_.push_back(header[c]);
                modalityCols.push_back(c);
            }
        if (m.modalities_.empty())
            m.problems_.push_back({headerRow, "no modality column after id,split,label"});
    } else {
        m.modalities_ = options.modalities;
        for (const auto& name : options.modalities) {
            const int c = column(name);
            if (c < 0)
                m.problems_.push_back({headerRow, "modality column '" + name + "' is missing from the header"});
            modalityCols.push_back(c);
        }
    }
    if (idCol < 0 || splitCol < 0 || labelCol < 0)
        return m;

    std::set<std::string> foundClasses;
    std::map<std::string, int> firstRowOfId;
    int recordLines = 0;
    while (readCsvRecord(in, line, &recordLines)) {
        ++lineNo;
        const int firstLine = lineNo;
        lineNo += recordLines - 1;
        if (trim(line).empty())
            continue;
        const auto fields = splitCsvLine(line);
        // Control characters (a NUL byte, a line break inside a quoted field) are not part
        // of an id, a split, a label or a file name.
        if (std::any_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r' && c != '\n'; }) ||
            (recordLines > 1)) {
            m.problems_.push_back({firstLine, recordLines > 1 ? "a quoted field holds a line break (rows " + std::to_string(firstLine) +
                                                                    " to " + std::to_string(lineNo) + ")"
                                                              : std::string("holds a control character (e.g. a NUL byte)")});
            continue;
        }
        if (fields.size() != header.size()) {
            m.problems_.push_back({firstLine, "has " + std::to_string(fields.size()) + " fields, the header has " +
                                                  std::to_string(header.size())});
            continue;
        }
        ManifestRow row;
        row.row = lineNo;
        row.id = trim(fields[idCol]);
        row.split = trim(fields[splitCol]);
        row.labels = splitLabels(fields[labelCol]);
        bool ok = true;
        if (row.id.empty()) {
            m.problems_.push_back({lineNo, "the id is empty"});
            ok = false;
        } else if (const auto it = firstRowOfId.find(row.id); it != firstRowOfId.end()) {
            m.problems_.push_back({lineNo, "repeats the id of row " + std::to_string(it->second)});
            ok = false;
        } else {
            firstRowOfId[row.id] = lineNo;
        }
        if (row.split != "train" && row.split != "val" && row.split != "test" && !(options.scoring && row.split.empty())) {
            m.problems_.push_back({lineNo, "unknown split '" + row.split + "' (expected train, val or test)"});
            ok = false;
        }
        if (options.scoring) {
            // labels are not read when scoring
        } else if (row.labels.empty() && !options.multilabel) {
            m.problems_.push_back({lineNo, "has no label"});
            ok = false;
        } else if (row.labels.size() > 1 && !options.multilabel) {
            m.problems_.push_back({lineNo, "has several labels but the task is single-label"});
            ok = false;
        }
        for (const auto& label : row.labels) {
            if (options.scoring)
                break;
            if (!options.classes.empty() &&
                std::find(options.classes.begin(), options.classes.end(), label) == options.classes.end()) {
                m.problems_.push_back({lineNo, "unknown class '" + label + "'"});
                ok = false;
            }
            foundClasses.insert(label);
        }
        for (std::size_t k = 0; k < modalityCols.size(); ++k) {
            if (modalityCols[k] < 0) {
                row.files.emplace_back();
                continue;
            }
            const std::string rel = trim(fields[modalityCols[k]]);
            const std::string& name = m.modalities_[k];
            if (rel.empty() && options.scoring) {
                row.files.emplace_back();  // a study without this modality
                continue;
            }
            if (rel.empty()) {
                m.problems_.push_back({lineNo, "no " + name + " file"});
                ok = false;
                row.files.emplace_back();
                continue;
            }
            const fs::path file = fs::path(rel).is_absolute() ? fs::path(rel) : base / rel;
            row.files.push_back(file.lexically_normal().string());
            std::error_code ec;
            if (!fs::exists(file, ec)) {
                m.problems_.push_back({lineNo, name + " file '" + rel + "' does not exist"});
                ok = false;
            } else if (options.checkImage) {
                try {
                    options.checkImage(row.files.back());
                } catch (const std::exception& e) {
                    m.problems_.push_back({lineNo, name + " file '" + rel + "' cannot be read: " + e.what()});
                    ok = false;
                }
            }
        }
        if (ok)
            m.rows_.push_back(std::move(row));
    }
    m.classes_ = options.classes.empty() ? std::vector<std::string>(foundClasses.begin(), foundClasses.end())
                                         : options.classes;
    const auto counts = m.splitCounts();
    if (options.classes.empty())
        flagLikelyTypos(m);
    const bool trainingRun = std::find(options.requiredSplits.begin(), options.requiredSplits.end(), "train") !=
                             options.requiredSplits.end();
    if (trainingRun && !options.multilabel && m.classes_.size() == 1 && !m.rows_.empty())
        m.problems_.push_back({0, "every study has the class '" + m.classes_.front() +
                                      "': a classifier needs at least two classes"});
    for (const auto& split : options.requiredSplits)
        if (!counts.count(split))
            m.problems_.push_back({0, "split '" + split + "' has no usable study"});
    // For training: a class that validation (or the test split, when there is one) never
    // sees cannot be measured there; early stopping and the reported mAP would ignore it.
    const bool training = std::find(options.requiredSplits.begin(), options.requiredSplits.end(), "train") !=
                          options.requiredSplits.end();
    if (training) {
        const auto byClass = m.classCounts();
        const auto countOf = [&byClass](const std::string& split, const std::string& cls) {
            const auto s = byClass.find(split);
            if (s == byClass.end())
                return 0;
            const auto c = s->second.find(cls);
            return c == s->second.end() ? 0 : c->second;
        };
        for (const auto& cls : m.classes_) {
            const int train = countOf("train", cls);
            for (const std::string split : {"val", "test"}) {
                if (!counts.count(split) || countOf(split, cls) > 0)
                    continue;
                m.problems_.push_back({0, "class '" + cls + "' has " + std::to_string(train) + " training stud" +
                                              (train == 1 ? "y" : "ies") + " and none in the " + split +
                                              " split: its AP cannot be measured there"});
            }
        }
    }
    return m;
}

void Manifest::flagLikelyTypos(Manifest& m)
{
    // Classes taken from the manifest itself: a rare class that differs from a common one
    // only by case, accents, separators or one letter is most likely a typo, not a class.
    std::map<std::string, int> count;
    std::map<std::string, int> firstRow;
    for (const auto& r : m.rows_)
        for (const auto& l : r.labels) {
            ++count[l];
            firstRow.emplace(l, r.row);
        }
    for (const auto& [rare, n] : count)
        for (const auto& [common, k] : count) {
            if (rare == common || n >= k || n > 2)
                continue;
            const std::string a = foldLabel(rare), b = foldLabel(common);
            if (a == b || (a.size() > 3 && editDistance(a, b) <= 1)) {
                m.problems_.push_back({firstRow[rare], "class '" + rare + "' (" + std::to_string(n) + " stud" + (n == 1 ? "y" : "ies") +
                                                           ") looks like a typo of '" + common + "' (" + std::to_string(k) +
                                                           " studies); fix the label, or give the class list in the config"});
                break;
            }
        }
}

std::vector<const ManifestRow*> Manifest::split(const std::string& name) const
{
    std::vector<const ManifestRow*> out;
    for (const auto& r : rows_)
        if (r.split == name)
            out.push_back(&r);
    return out;
}

std::map<std::string, std::map<std::string, int>> Manifest::classCounts() const
{
    std::map<std::string, std::map<std::string, int>> out;
    for (const auto& r : rows_)
        for (const auto& l : r.labels)
            ++out[r.split][l];
    return out;
}

std::map<std::string, int> Manifest::splitCounts() const
{
    std::map<std::string, int> out;
    for (const auto& r : rows_)
        ++out[r.split];
    return out;
}

void Manifest::addProblems(const std::vector<ManifestProblem>& more)
{
    for (const ManifestProblem& p : more) {
        const bool known = std::any_of(problems_.begin(), problems_.end(), [&p](const ManifestProblem& q) {
            return q.row == p.row && q.problem == p.problem;
        });
        if (!known)
            problems_.push_back(p);
    }
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const ManifestProblem& a, const ManifestProblem& b) { return a.row < b.row; });
}

void Manifest::throwIfProblems() const
{
    if (problems_.empty())
        return;
    std::string text = std::to_string(problems_.size()) + " problem(s) in the data set: ";
    for (std::size_t i = 0; i < problems_.size(); ++i)
        text += (i ? "; " : "") + problems_[i].text();
    throw BadInputError(path_, text);
}

std::vector<float> Manifest::target(const ManifestRow& row) const
{
    std::vector<float> t(classes_.size(), 0.0f);
    for (const auto& l : row.labels) {
        const auto it = std::find(classes_.begin(), classes_.end(), l);
        if (it != classes_.end())
            t[it - classes_.begin()] = 1.0f;
    }
    return t;
}

}  // namespace ei
