#include "core/scoring/BatchScoring.h"

#include "core/data/Csv.h"
#include "core/data/Manifest.h"
#include "core/io/ImageLoader.h"
#include "core/study/Preprocess.h"
#include "models/Device.h"
#include "models/Error.h"
#include "models/dist/Distributed.h"
#include "models/ei/EiModel.h"
#include "models/io/AtomicFile.h"
#include "models/io/EiModelFile.h"
#include "models/io/NpyFile.h"
#include "models/io/Sha256.h"
#include "models/train/Calibration.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <sstream>

namespace ei {
namespace {

namespace fs = std::filesystem;

std::string readWholeFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool samePath(const std::string& a, const std::string& b)
{
    std::error_code ec;
    return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

// A number as the table holds it: enough digits to round-trip a float, the same text on
// every machine and every run.
std::string number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.8g", v);
    return buf;
}

// One study's inputs, read and preprocessed (or why they could not be).
struct PreparedStudy {
    const ManifestRow* row = nullptr;
    std::vector<torch::Tensor> inputs;  // per modality; undefined = missing
    std::string failure;
};

std::vector<PreparedStudy> prepareBatch(const std::vector<const ManifestRow*>& rows, const ModelConfig& config)
{
    std::vector<PreparedStudy> batch;
    for (const ManifestRow* row : rows) {
        PreparedStudy study;
        study.row = row;
        try {
            bool any = false;
            for (int m = 0; m < config.numModalities(); ++m) {
                const std::string& file = row->files.at(static_cast<std::size_t>(m));
                if (file.empty()) {
                    study.inputs.emplace_back();
                    continue;
                }
                const Image image = loadImage(file);
                const ModelInputSpec spec = modelInputSpec(config, m);
                const torch::Tensor x = preprocessForModel(image, spec);  // [S, 3, H, W]
                study.inputs.push_back(spec.volume ? x.unsqueeze(0) : x);
                any = true;
            }
            if (!any)
                study.failure = "has no image for any of the model's modalities";
        } catch (const Error& e) {
            study.failure = e.what();
        }
        batch.push_back(std::move(study));
    }
    return batch;
}

// A file-system-safe folder name for a study's maps: the id with anything but letters,
// digits, '.', '-' and '_' replaced; the row number added where that changed the id (two
// ids could otherwise meet).
std::string mapFolderName(const ManifestRow& row)
{
    std::string safe;
    for (unsigned char c : row.id)
        safe += (std::isalnum(c) || c == '.' || c == '-' || c == '_') ? static_cast<char>(c) : '_';
    if (safe != row.id || safe == "." || safe == "..")
        safe += "_row" + std::to_string(row.row);
    return safe;
}

// What a partial file must match to be resumed.
nlohmann::json runIdentity(const ScoringRequest& request, const std::vector<std::string>& columns)
{
    return {{"model_sha256", Sha256::ofFile(request.modelPath)},
            {"manifest", fs::absolute(request.manifestPath).lexically_normal().string()},
            {"split", request.split},
            {"maps", request.mapsDir.empty() ? std::string() : fs::absolute(request.mapsDir).lexically_normal().string()},
            {"columns", columns}};
}

class ScoringRun {
public:
    ScoringRun(const ScoringRequest& request, const LoadedEiModel& loaded, const TemperatureScaling& calibration)
        : request_(request), model_(*loaded.model), config_(loaded.model->config()), calibration_(calibration)
    {
    }

    // The rows of one batch as CSV lines (maps written on the way); failures to `failures`.
    std::vector<std::string> score(std::vector<PreparedStudy>& batch, std::vector<std::pair<int, std::string>>& failures,
                                   const JobControl* control)
    {
        // Studies with the same modalities present go through the model together.
        std::map<std::vector<bool>, std::vector<PreparedStudy*>> groups;
        for (auto& study : batch) {
            if (!study.failure.empty()) {
                failures.emplace_back(study.row->row, study.failure);
                continue;
            }
            std::vector<bool> present;
            for (const auto& t : study.inputs)
                present.push_back(t.defined());
            groups[present].push_back(&study);
        }
        std::map<const ManifestRow*, std::string> lines;
        for (const auto& [present, studies] : groups) {
            std::vector<torch::Tensor> inputs;
            for (std::size_t m = 0; m < present.size(); ++m) {
                if (!present[m]) {
                    inputs.emplace_back();
                    continue;
                }
                std::vector<torch::Tensor> rows;
                for (const PreparedStudy* s : studies)
                    rows.push_back(s->inputs[m]);
                inputs.push_back(torch::cat(rows));
            }
            EiOutputs out;
            {
                torch::InferenceMode guard;
                out = model_.forward(inputs, !request_.mapsDir.empty(), control);
            }
            for (std::size_t b = 0; b < studies.size(); ++b) {
                lines[studies[b]->row] = line(*studies[b]->row, out, static_cast<std::int64_t>(b));
                if (!request_.mapsDir.empty())
                    writeMaps(*studies[b]->row, out, static_cast<std::int64_t>(b));
            }
        }
        std::vector<std::string> ordered;  // in the batch's (manifest) order
        for (const auto& study : batch)
            if (const auto it = lines.find(study.row); it != lines.end())
                ordered.push_back(it->second);
        return ordered;
    }

private:
    static std::vector<double> rowOf(const torch::Tensor& t, std::int64_t b)
    {
        const torch::Tensor r = t[b].to(torch::kCPU, torch::kDouble).contiguous();
        return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
    }

    std::string line(const ManifestRow& row, const EiOutputs& out, std::int64_t b) const
    {
        const int numModalities = config_.numModalities();
        const std::size_t numClasses = config_.classes.size();
        std::vector<double> fused = rowOf(out.fused, b);
        const std::vector<double> probs = calibration_.empty() ? rowOf(out.fusedProbs, b) : calibration_.probabilities(fused);
        for (double p : probs)
            if (!std::isfinite(p))
                throw ModelError(request_.modelPath, "gives a non-finite probability for the study on manifest row " +
                                                         std::to_string(row.row));
        std::string text = csvField(row.id);
        for (double p : probs)
            text += ',' + number(p);
        // The gate: a unimodal model's one modality carries the whole decision.
        std::vector<double> gate(static_cast<std::size_t>(numModalities), 0.0);
        if (out.gate.defined())
            gate = rowOf(out.gate, b);
        else
            for (int m = 0; m < numModalities; ++m)
                gate[static_cast<std::size_t>(m)] = out.present.at(static_cast<std::size_t>(m)) ? 1.0 : 0.0;
        for (double g : gate)
            text += ',' + number(g);
        for (int m = 0; m < numModalities; ++m) {
            const torch::Tensor& p = out.probs.at(static_cast<std::size_t>(m));
            const std::vector<double> values = p.defined() ? rowOf(p, b) : std::vector<double>{};
            for (std::size_t c = 0; c < numClasses; ++c)
                text += ',' + (values.empty() ? std::string() : number(values[c]));  // empty: the study lacks it
        }
        return text;
    }

    void writeMaps(const ManifestRow& row, const EiOutputs& out, std::int64_t b) const
    {
        const fs::path dir = fs::path(request_.mapsDir) / mapFolderName(row);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec)
            throw BadInputError(dir.string(), "cannot create the maps folder: " + ec.message());
        for (int m = 0; m < config_.numModalities(); ++m) {
            const auto& name = config_.modalities[static_cast<std::size_t>(m)].name;
            for (const EiMap& map : out.maps.at(static_cast<std::size_t>(m))) {
                const torch::Tensor v = map.values[b].to(torch::kCPU, torch::kFloat).contiguous();  // [S, gh, gw]
                writeNpy((dir / (name + "_" + map.kind + ".npy")).string(), v.sizes().vec(), v.data_ptr<float>());
            }
        }
    }

    const ScoringRequest& request_;
    const EiModel& model_;
    const ModelConfig& config_;
    const TemperatureScaling& calibration_;
};

// The partial file of an earlier run of the same request: the ids it scored. Cut back to
// its last complete line (a run killed mid-write leaves half a line). A partial file of
// another run is refused rather than mixed in.
std::set<std::string> resumePartial(const std::string& partial, const std::string& identityPath,
                                    const nlohmann::json& identity, const std::string& header)
{
    std::set<std::string> done;
    std::error_code ec;
    if (!fs::exists(partial, ec))
        return done;
    nlohmann::json stored;
    try {
        stored = nlohmann::json::parse(readWholeFile(identityPath));
    } catch (const std::exception&) {
        throw BadInputError(partial, "is left from an interrupted run but its companion " + identityPath +
                                         " is missing or unreadable; remove both to start again");
    }
    for (const char* key : {"model_sha256", "manifest", "split", "maps", "columns"})
        if (stored.value(key, nlohmann::json()) != identity.at(key))
            throw BadInputError(partial, std::string("is left from an interrupted run with another ") +
                                             (std::string(key) == "model_sha256" ? "model" : key) +
                                             "; finish that run, or remove it and " + identityPath + " to start again");
    std::string text = readWholeFile(partial);
    const auto lastNewline = text.rfind('\n');
    text.resize(lastNewline == std::string::npos ? 0 : lastNewline + 1);
    std::istringstream lines(text);
    std::string line;
    bool first = true;
    while (std::getline(lines, line)) {
        if (first) {
            if (line != header)
                throw BadInputError(partial, "does not start with the expected header; remove it to start again");
            first = false;
            continue;
        }
        done.insert(splitCsvLine(line).at(0));
    }
    fs::resize_file(partial, text.size(), ec);
    if (ec)
        throw BadInputError(partial, "cannot be cut back to its last complete row: " + ec.message());
    return done;
}

}  // namespace

std::vector<std::string> scoringColumns(const ModelConfig& config)
{
    std::vector<std::string> columns{"id"};
    for (const auto& c : config.classes)
        columns.push_back("prob_" + c);
    for (const auto& m : config.modalities)
        columns.push_back("gate_" + m.name);
    for (const auto& m : config.modalities)
        for (const auto& c : config.classes)
            columns.push_back(m.name + "_prob_" + c);
    return columns;
}

ScoringSummary scoreManifest(const ScoringRequest& request, const std::function<void(int, int)>& progress,
                             const JobControl* control)
{
    if (request.batchSize < 1)
        throw BadInputError("", "the batch size must be at least 1");
    for (const std::string& input : {request.manifestPath, request.modelPath})
        if (samePath(request.outPath, input))
            throw BadInputError(request.outPath, "is an input of this run (" + input + "); choose another output file");

    // A sharded run meets its other ranks first (models/dist/Distributed.h).
    torch::Device device = resolveDevice(request.device);
    std::shared_ptr<Distributed> dist;
    if (request.distributed.enabled()) {
        device = rankDevice(device, request.distributed.localRank);
        dist = Distributed::connect(request.distributed, device);
    }
    const bool main = !dist || dist->isMain();

    const LoadedEiModel loaded = EiModelFile::read(request.modelPath);
    const ModelConfig& config = loaded.model->config();
    loaded.model->to(device);
    loaded.model->setPrecision(parsePrecision(request.precision));
    const TemperatureScaling calibration =
        TemperatureScaling::fromMetadata(loaded.metadata, config.classes.size(), config.multilabel, request.modelPath);

    ManifestOptions options;
    for (const auto& m : config.modalities)
        options.modalities.push_back(m.name);
    options.classes = config.classes;
    options.multilabel = config.multilabel;
    options.requiredSplits = {};
    options.scoring = true;
    const Manifest manifest = Manifest::read(request.manifestPath, options);
    manifest.throwIfProblems();
    std::vector<const ManifestRow*> rows;
    for (const auto& row : manifest.rows())
        if (request.split.empty() || row.split == request.split)
            rows.push_back(&row);
    if (rows.empty())
        throw BadInputError(request.manifestPath, request.split.empty() ? "holds no study to score"
                                                                        : "holds no study in the split '" + request.split + "'");

    const std::vector<std::string> columns = scoringColumns(config);
    std::string header;
    for (const auto& c : columns)
        header += (header.empty() ? "" : ",") + csvField(c);
    const std::string partial = request.outPath + ".partial";
    const std::string identityPath = request.outPath + ".partial.json";

    // Rank 0 owns the output: it resumes the partial file (or starts it) and tells every
    // rank which studies are done, so that all shard the same pending list. Only it hashes
    // the model for the run's identity.
    std::set<std::string> done;
    const auto openOutput = [&] {
        const nlohmann::json identity = runIdentity(request, columns);
        done = resumePartial(partial, identityPath, identity, header);
        if (done.empty()) {  // a fresh run: the header, and what makes the partial file resumable
            writeFileAtomically(identityPath, identity.dump(2) + "\n");
            std::ofstream(partial, std::ios::binary | std::ios::trunc) << header << '\n';
        }
    };
    if (!dist) {
        openOutput();
    } else {
        std::string problem;
        if (main)
            try {
                openOutput();
            } catch (const Error& e) {
                problem = e.what();
            }
        if (const std::string agreed = dist->agree(problem); !agreed.empty())
            throw BadInputError("", agreed);
        std::string ids;
        for (const auto& id : done)
            ids += id + '\n';  // ids hold no line breaks (Manifest refuses control characters)
        std::istringstream in(dist->broadcastBytes(ids));
        for (std::string id; std::getline(in, id);)
            done.insert(id);
    }

    ScoringSummary summary;
    summary.total = static_cast<int>(rows.size());
    std::vector<const ManifestRow*> pending;
    for (const ManifestRow* row : rows)
        if (!done.count(row->id))
            pending.push_back(row);
    summary.resumed = summary.total - static_cast<int>(pending.size());

    // This rank's share: pending studies rank, rank + N, ... Every rank runs the same
    // number of steps (the largest share's batches; a rank out of studies sends none).
    const int world = dist ? dist->worldSize() : 1, rank = dist ? dist->rank() : 0;
    const std::size_t batchSize = static_cast<std::size_t>(request.batchSize);
    std::vector<const ManifestRow*> mine;
    for (std::size_t i = static_cast<std::size_t>(rank); i < pending.size(); i += static_cast<std::size_t>(world))
        mine.push_back(pending[i]);
    const std::size_t largestShare = (pending.size() + static_cast<std::size_t>(world) - 1) / static_cast<std::size_t>(world);
    const std::size_t steps = (largestShare + batchSize - 1) / batchSize;
    const auto shareOf = [&](int r) {
        return pending.size() / static_cast<std::size_t>(world) + (static_cast<std::size_t>(r) < pending.size() % static_cast<std::size_t>(world) ? 1 : 0);
    };

    std::ofstream out;
    if (main) {
        out.open(partial, std::ios::binary | std::ios::app);
        if (!out)
            throw BadInputError(partial, "cannot be opened for writing");
    }

    ScoringRun run(request, loaded, calibration);
    const auto batchAt = [&](std::size_t step) {
        const std::size_t start = std::min(mine.size(), step * batchSize), end = std::min(mine.size(), start + batchSize);
        return std::vector<const ManifestRow*>(mine.begin() + static_cast<std::ptrdiff_t>(start),
                                               mine.begin() + static_cast<std::ptrdiff_t>(end));
    };
    // The next batch's images are read on another thread while the model runs.
    std::future<std::vector<PreparedStudy>> next;
    if (steps > 0)
        next = std::async(std::launch::async, prepareBatch, batchAt(0), std::cref(config));
    int finished = summary.resumed;
    if (progress && main)
        progress(finished, summary.total);
    for (std::size_t step = 0; step < steps; ++step) {
        std::vector<PreparedStudy> batch = next.get();
        if (step + 1 < steps)
            next = std::async(std::launch::async, prepareBatch, batchAt(step + 1), std::cref(config));
        if (control)
            control->checkpoint(static_cast<double>(finished) / summary.total, "scoring");
        std::vector<std::pair<int, std::string>> failures;
        std::vector<std::string> lines = run.score(batch, failures, control);
        if (dist) {  // every rank's rows and failures to rank 0
            std::string payload;
            for (const auto& line : lines)
                payload += "L" + line + "\n";
            for (const auto& [row, problem] : failures) {
                std::string text = problem;
                std::replace(text.begin(), text.end(), '\n', ' ');
                payload += "E" + std::to_string(row) + "\t" + text + "\n";
            }
            lines.clear();
            failures.clear();
            for (int r = 0; r < world; ++r) {
                std::istringstream in(dist->broadcastBytes(payload, r));
                for (std::string item; std::getline(in, item);) {
                    if (item.rfind('L', 0) == 0) {
                        lines.push_back(item.substr(1));
                    } else if (const auto tab = item.find('\t'); item.rfind('E', 0) == 0 && tab != std::string::npos) {
                        failures.emplace_back(std::stoi(item.substr(1, tab - 1)), item.substr(tab + 1));
                    }
                }
            }
        }
        summary.failures.insert(summary.failures.end(), failures.begin(), failures.end());
        summary.scored += static_cast<int>(lines.size());
        for (int r = 0; r < world; ++r)
            finished += static_cast<int>(std::min(batchSize, shareOf(r) - std::min(shareOf(r), step * batchSize)));
        if (!main)
            continue;
        for (const std::string& line : lines)
            out << line << '\n';
        out.flush();  // a row on disk is a row a resumed run skips
        if (!out)
            throw BadInputError(partial, "cannot be written (disk full?)");
        if (progress)
            progress(finished, summary.total);
    }
    if (!main)
        return summary;  // rank 0 writes the result
    out.close();

    // The result: the partial file's rows in manifest order, written at once.
    std::map<std::string, std::string> lineOf;
    {
        std::istringstream in(readWholeFile(partial));
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line))
            lineOf[splitCsvLine(line).at(0)] = line;
    }
    std::string result = header + "\n";
    for (const ManifestRow* row : rows)
        if (const auto it = lineOf.find(row->id); it != lineOf.end())
            result += it->second + "\n";
    writeFileAtomically(request.outPath, result);
    summary.errorsPath = request.outPath + ".errors.csv";
    if (!summary.failures.empty()) {
        std::string errors = "row,problem\n";
        for (const auto& [row, problem] : summary.failures)
            errors += std::to_string(row) + "," + csvField(problem) + "\n";
        writeFileAtomically(summary.errorsPath, errors);
    } else {
        std::error_code ec;
        fs::remove(summary.errorsPath, ec);  // from an earlier run of the same output
        summary.errorsPath.clear();
    }
    std::error_code ec;
    fs::remove(partial, ec);
    fs::remove(identityPath, ec);
    return summary;
}

}  // namespace ei
