// Draws the synthetic CFP / OCT studies described in SyntheticData.h with OpenCV.
// Randomness uses raw mt19937 outputs (not std:: distributions, whose results differ
// between standard libraries), so a seed gives the same pixels everywhere.
#include "core/data/SyntheticData.h"

#include "models/io/AtomicFile.h"
#include "models/Error.h"
#include "models/io/NpyFile.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <random>
#include <sstream>
#include <vector>

namespace ei {
namespace {

namespace fs = std::filesystem;

class Random {
public:
    explicit Random(unsigned seed) : engine_(seed) {}
    double uniform(double lo, double hi) { return lo + (hi - lo) * (engine_() / 4294967296.0); }
    int integer(int lo, int hi) { return lo + static_cast<int>(engine_() % static_cast<unsigned>(hi - lo + 1)); }
    double normal()
    {
        const double u1 = std::max(uniform(0, 1), 1e-12), u2 = uniform(0, 1);
        return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

private:
    std::mt19937 engine_;
};

constexpr double kPi = 3.141592653589793;

// BGR 8-bit fundus photo; kind 0 = drusen, 1 = haemorrhages.
cv::Mat drawFundus(Random& rng, int size, int kind)
{
    const double s = size;
    cv::Mat img(size, size, CV_8UC3, cv::Scalar(0, 0, 0));
    const double cx = s / 2 + rng.uniform(-0.03, 0.03) * s, cy = s / 2 + rng.uniform(-0.03, 0.03) * s;
    const double radius = 0.46 * s;
    const double tint = rng.uniform(0.85, 1.1);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            const double r = std::hypot(x - cx, y - cy) / radius;
            if (r > 1)
                continue;
            const double fall = 1 - 0.45 * r * r;
            img.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(35 * fall * tint),
                                                cv::saturate_cast<uchar>(85 * fall * tint),
                                                cv::saturate_cast<uchar>(205 * fall * tint));
        }
    // Optic disc on the nasal side (left or right eye), vessels fanning out of it.
    const double side = rng.uniform(0, 1) < 0.5 ? -1 : 1;
    const cv::Point2d disc(cx + side * 0.27 * s, cy + rng.uniform(-0.04, 0.04) * s);
    const int vessels = rng.integer(4, 6);
    for (int v = 0; v < vessels; ++v) {
        const double angle = (v + rng.uniform(0, 0.6)) * 2 * kPi / vessels;
        const double bend = rng.uniform(-0.9, 0.9);
        std::vector<cv::Point> line;
        for (int k = 0; k <= 12; ++k) {
            const double t = k / 12.0, len = t * 0.6 * s, a = angle + bend * t;
            const cv::Point2d p(disc.x + len * std::cos(a), disc.y + len * std::sin(a));
            if (std::hypot(p.x - cx, p.y - cy) > radius * 0.97)
                break;
            line.emplace_back(cvRound(p.x), cvRound(p.y));
        }
        if (line.size() > 1)
            cv::polylines(img, line, false, cv::Scalar(20, 25, 115), 1, cv::LINE_AA);
    }
    cv::circle(img, disc, cvRound(0.08 * s), cv::Scalar(150, 215, 245), cv::FILLED, cv::LINE_AA);
    // Lesions somewhere on the retina, away from the optic disc.
    const int count = kind == 0 ? rng.integer(8, 13) : rng.integer(5, 8);
    for (int n = 0; n < count; ++n) {
        cv::Point2d p;
        for (int tries = 0; tries < 50; ++tries) {
            const double a = rng.uniform(0, 2 * kPi), r = std::sqrt(rng.uniform(0, 1)) * 0.8 * radius;
            p = cv::Point2d(cx + r * std::cos(a), cy + r * std::sin(a));
            if (std::hypot(p.x - disc.x, p.y - disc.y) > 0.14 * s)
                break;
        }
        if (kind == 0) {
            cv::circle(img, p, std::max(1, cvRound(rng.uniform(0.03, 0.05) * s)), cv::Scalar(95, 220, 240), cv::FILLED,
                       cv::LINE_AA);
        } else {
            const cv::Size axes(std::max(2, cvRound(rng.uniform(0.04, 0.065) * s)), std::max(1, cvRound(rng.uniform(0.028, 0.045) * s)));
            cv::ellipse(img, p, axes, rng.uniform(0, 180), 0, 360, cv::Scalar(8, 8, 85), cv::FILLED, cv::LINE_AA);
        }
    }
    cv::GaussianBlur(img, img, cv::Size(3, 3), 0.6);
    for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
            auto& px = img.at<cv::Vec3b>(y, x);
            if (px[2] == 0)
                continue;
            for (int c = 0; c < 3; ++c)
                px[c] = cv::saturate_cast<uchar>(px[c] + 4 * rng.normal());
        }
    return img;
}

// Grey 8-bit OCT B-scan; kind 0 = bright bumps under the pigment epithelium (drusen),
// 1 = a dark fluid pocket above it.
cv::Mat drawOct(Random& rng, int size, int kind)
{
    const double s = size;
    const double base = rng.uniform(0.48, 0.56) * s, tilt = rng.uniform(-0.06, 0.06) * s;
    const double foveaX = rng.uniform(0.4, 0.6) * s;
    // Per-column elevation of the pigment epithelium (bumps) and fluid height above it.
    std::vector<double> bump(size, 0.0), fluid(size, 0.0);
    if (kind == 0) {
        const int count = rng.integer(2, 4);
        for (int n = 0; n < count; ++n) {
            const double c = rng.uniform(0.12, 0.88) * s, w = rng.uniform(0.03, 0.05) * s, h = rng.uniform(0.05, 0.08) * s;
            for (int x = 0; x < size; ++x)
                bump[x] = std::max(bump[x], h * std::exp(-0.5 * std::pow((x - c) / w, 2)));
        }
    } else {
        const double c = rng.uniform(0.25, 0.75) * s, w = rng.uniform(0.12, 0.2) * s, h = rng.uniform(0.07, 0.11) * s;
        for (int x = 0; x < size; ++x) {
            const double t = (x - c) / w;
            if (std::abs(t) < 1)
                fluid[x] = h * std::sqrt(1 - t * t);
        }
    }
    cv::Mat img(size, size, CV_8UC1);
    for (int x = 0; x < size; ++x) {
        const double rpe = base + tilt * (x / s - 0.5) - bump[x];
        const double dip = 0.05 * s * std::exp(-0.5 * std::pow((x - foveaX) / (0.07 * s), 2));
        const double top = rpe - fluid[x] - 0.22 * s + dip;  // inner retinal surface
        const double retina = rpe - fluid[x] - top;           // thickness above the fluid
        for (int y = 0; y < size; ++y) {
            double v = 18;
            if (y >= top && y < rpe - fluid[x]) {
                const double t = (y - top) / retina;  // 0 at the surface, 1 at the fluid / RPE
                v = t < 0.15 ? 175 : t < 0.45 ? 85 : t < 0.65 ? 135 : t < 0.85 ? 60 : 120;
            } else if (y >= rpe - fluid[x] && y < rpe) {
                v = 12;  // fluid
            } else if (y >= rpe && y < rpe + 0.035 * s) {
                v = 225;  // pigment epithelium
            } else if (y >= rpe + 0.035 * s && y < base + tilt * (x / s - 0.5) + 0.035 * s) {
                v = 200;  // drusen material under a raised epithelium
            } else if (y >= rpe + 0.035 * s && y < rpe + 0.16 * s) {
                v = 95 - 60 * (y - rpe - 0.035 * s) / (0.125 * s);  // choroid fading out
            }
            const double speckle = 0.55 + 0.9 * rng.uniform(0, 1);
            img.at<uchar>(y, x) = cv::saturate_cast<uchar>(v * speckle);
        }
    }
    cv::GaussianBlur(img, img, cv::Size(3, 3), 0.7);
    return img;
}

// Knee MRI-like volumes (MRNet's layout: uint8 [S, H, W] per view). view 0 = sagittal
// (femoral condyle above the tibial plateau, menisci as dark wedges in the joint
// space), 1 = coronal (two condyles, menisci at the medial and lateral margins), 2 =
// axial (femur cross-section with the patella in front). kind 0 = a linear bright tear
// through a meniscus (axial: through the patellar cartilage), 1 = a rounded bright
// bone-marrow oedema; shown on 3 to 4 consecutive slices only, so slice pooling matters.
std::vector<std::uint8_t> drawKneeVolume(Random& rng, int size, int slices, int view, int kind)
{
    const double s = size;
    std::vector<std::uint8_t> out(static_cast<std::size_t>(slices) * size * size);
    const int span = rng.integer(3, 4);
    const int first = rng.integer(std::max(0, slices / 2 - 3), std::max(0, std::min(slices - span, slices / 2)));
    const double side = rng.uniform(0, 1) < 0.5 ? -1 : 1;  // which meniscus / condyle
    const double findX = rng.uniform(0.0, 0.06) * s, findY = rng.uniform(-0.03, 0.03) * s;
    const double tilt = rng.uniform(-0.6, 0.6), brightness = rng.uniform(0.85, 1.15);
    const double cx = s / 2 + rng.uniform(-0.03, 0.03) * s;
    for (int k = 0; k < slices; ++k) {
        const double z = slices > 1 ? (k - (slices - 1) / 2.0) / (slices / 2.0) : 0;
        const double f = std::sqrt(std::max(0.15, 1 - 0.7 * z * z));  // anatomy shrinks off-centre
        cv::Mat img(size, size, CV_8UC1, cv::Scalar(8));
        cv::ellipse(img, cv::Point2d(cx, s / 2), cv::Size2d(0.46 * s * f + 2, 0.47 * s), 0, 0, 360, cv::Scalar(62),
                    cv::FILLED, cv::LINE_AA);  // soft tissue
        cv::Point2d lesionAt;
        if (view == 2) {
            cv::ellipse(img, cv::Point2d(cx, 0.55 * s), cv::Size2d(0.27 * s * f, 0.22 * s * f), 0, 0, 360, cv::Scalar(150),
                        cv::FILLED, cv::LINE_AA);
            cv::ellipse(img, cv::Point2d(cx, 0.55 * s), cv::Size2d(0.27 * s * f, 0.22 * s * f), 0, 0, 360, cv::Scalar(25),
                        2, cv::LINE_AA);  // cortex
            cv::ellipse(img, cv::Point2d(cx, 0.2 * s), cv::Size2d(0.13 * s * f, 0.06 * s * f), 0, 0, 360, cv::Scalar(140),
                        cv::FILLED, cv::LINE_AA);  // patella
            cv::ellipse(img, cv::Point2d(cx, 0.265 * s), cv::Size2d(0.12 * s * f, 0.012 * s + 1), 0, 0, 360, cv::Scalar(190),
                        cv::FILLED, cv::LINE_AA);  // patellar cartilage
            lesionAt = kind == 0 ? cv::Point2d(cx + side * findX, 0.265 * s) : cv::Point2d(cx + side * 0.1 * s, 0.55 * s + findY);
        } else {
            const double jointY = 0.5 * s;
            if (view == 0) {
                cv::ellipse(img, cv::Point2d(cx, jointY - 0.21 * s), cv::Size2d(0.25 * s * f, 0.2 * s), 0, 0, 360,
                            cv::Scalar(150), cv::FILLED, cv::LINE_AA);  // femoral condyle
            } else {
                for (double d : {-1.0, 1.0})
                    cv::ellipse(img, cv::Point2d(cx + d * 0.13 * s, jointY - 0.18 * s), cv::Size2d(0.13 * s * f, 0.17 * s), 0,
                                0, 360, cv::Scalar(150), cv::FILLED, cv::LINE_AA);  // condyles
            }
            cv::ellipse(img, cv::Point2d(cx, jointY + 0.27 * s), cv::Size2d(0.3 * s * f, 0.24 * s), 0, 0, 360,
                        cv::Scalar(145), cv::FILLED, cv::LINE_AA);  // tibial plateau
            cv::line(img, cv::Point2d(cx - 0.28 * s * f, jointY + 0.03 * s), cv::Point2d(cx + 0.28 * s * f, jointY + 0.03 * s),
                     cv::Scalar(195), 2, cv::LINE_AA);  // tibial cartilage
            for (double d : {-1.0, 1.0}) {
                const double mx = cx + d * 0.22 * s * f;
                const std::vector<cv::Point> wedge{cv::Point(cvRound(mx + d * 0.09 * s), cvRound(jointY - 0.05 * s)),
                                                   cv::Point(cvRound(mx + d * 0.09 * s), cvRound(jointY + 0.025 * s)),
                                                   cv::Point(cvRound(mx - d * 0.07 * s), cvRound(jointY + 0.025 * s))};
                cv::fillConvexPoly(img, wedge, cv::Scalar(18), cv::LINE_AA);  // meniscus
            }
            lesionAt = kind == 0 ? cv::Point2d(cx + side * (0.23 * s * f + findX * 0.3), jointY - 0.01 * s)
                                 : cv::Point2d(cx + side * 0.12 * s, jointY - 0.16 * s + findY);
        }
        if (k >= first && k < first + span) {
            if (kind == 0) {
                // An oblique linear signal, 30-60 degrees, as a meniscal tear reaching the surface.
                const double len = 0.05 * s, a = (tilt > 0 ? 1 : -1) * (0.52 + 0.5 * std::abs(tilt));
                cv::line(img, lesionAt - cv::Point2d(len * std::cos(a), len * std::sin(a)),
                         lesionAt + cv::Point2d(len * std::cos(a), len * std::sin(a)), cv::Scalar(245 * brightness),
                         std::max(2, cvRound(0.022 * s)), cv::LINE_AA);
            } else {
                cv::circle(img, lesionAt, std::max(2, cvRound(0.07 * s)), cv::Scalar(215 * brightness), cv::FILLED,
                           cv::LINE_AA);
            }
        }
        cv::GaussianBlur(img, img, cv::Size(3, 3), 0.8);
        std::uint8_t* dst = out.data() + static_cast<std::size_t>(k) * size * size;
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size; ++x) {
                // Rician-looking noise: magnitude of a noisy complex signal.
                const double v = img.at<uchar>(y, x), nr = v + 9 * rng.normal(), ni = 9 * rng.normal();
                dst[y * size + x] = cv::saturate_cast<uchar>(std::sqrt(nr * nr + ni * ni));
            }
    }
    return out;
}

std::string encodePng(const cv::Mat& img, const std::string& path)
{
    std::vector<uchar> buffer;
    if (!cv::imencode(".png", img, buffer))
        throw BadInputError(path, "could not encode the PNG");
    return std::string(buffer.begin(), buffer.end());
}

}  // namespace

SyntheticSummary writeSyntheticDataset(const std::string& dir, const SyntheticOptions& options)
{
    const bool knee = options.kind == "knee";
    if (!knee && options.kind != "cfp-oct")
        throw UsageError("make-synthetic: --kind must be cfp-oct or knee, got '" + options.kind + "'");
    if (options.studies < 8)
        throw UsageError("make-synthetic: --n must be at least 8 (every split needs both labels)");
    if (options.size < 32 || options.size > 2048)
        throw UsageError("make-synthetic: the image size must be within 32..2048");
    if (knee && (options.slices < 4 || options.slices > 256))
        throw UsageError("make-synthetic: --slices must be within 4..256");
    const fs::path root(dir);
    const fs::path manifest = root / "manifest.csv";
    std::error_code ec;
    if (fs::exists(manifest, ec))
        throw BadInputError(manifest.string(), "already exists; choose an empty folder");
    fs::create_directories(root / "img", ec);
    if (ec)
        throw BadInputError(dir, "cannot create the folder: " + ec.message());

    // Kinds cycle through the four combinations so labels and kinds are balanced;
    // studies are then dealt to splits per combination (stratified).
    Random rng(options.seed);
    struct Study {
        int kindA, kindB;
        std::string split;
    };
    std::vector<Study> studies(options.studies);
    std::array<std::vector<int>, 4> groups;
    for (int i = 0; i < options.studies; ++i) {
        studies[i].kindA = i % 2;
        studies[i].kindB = (i / 2) % 2;
        groups[i % 4].push_back(i);
    }
    for (auto& group : groups) {
        for (std::size_t k = group.size(); k > 1; --k)
            std::swap(group[k - 1], group[rng.integer(0, static_cast<int>(k) - 1)]);
        const int n = static_cast<int>(group.size());
        const int nTrain = std::max(1, static_cast<int>(std::round(n * options.trainFraction)));
        const int nVal = std::max(1, static_cast<int>(std::round(n * options.valFraction)));
        for (int k = 0; k < n; ++k)
            studies[group[k]].split = k < nTrain ? "train" : k < nTrain + nVal ? "val" : "test";
    }

    SyntheticSummary summary;
    summary.manifestPath = manifest.string();
    summary.studies = options.studies;
    summary.modalities = knee ? std::vector<std::string>{"SAG", "COR", "AX"} : std::vector<std::string>{"CFP", "OCT"};
    std::ostringstream csv, findings;
    csv << "id,split,label";
    findings << "id,split";
    for (const auto& m : summary.modalities) {
        csv << ',' << m;
        findings << ',' << m << "_finding";
    }
    for (const auto& m : summary.modalities)
        findings << ',' << m;
    csv << '\n';
    findings << '\n';
    const char* kneeKinds[2] = {"tear", "oedema"};
    for (int i = 0; i < options.studies; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "s%04d", i + 1);
        const auto& st = studies[i];
        const bool lesion = st.kindA == st.kindB;
        std::vector<std::string> files, kinds;
        if (knee) {
            // SAG and COR carry the two findings the label combines; AX an independent
            // one of its own, a distractor the gate has to learn to weigh down.
            const int axKind = rng.integer(0, 1);
            const int viewKinds[3] = {st.kindA, st.kindB, axKind};
            for (int v = 0; v < 3; ++v) {
                std::string lower = summary.modalities[v];
                std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
                const std::string name = std::string("img/") + id + "_" + lower + ".npy";
                const auto voxels = drawKneeVolume(rng, options.size, options.slices, v, viewKinds[v]);
                writeNpyU8((root / name).string(), {options.slices, options.size, options.size}, voxels.data());
                files.push_back(name);
                kinds.push_back(kneeKinds[viewKinds[v]]);
            }
        } else {
            const std::string cfpName = std::string("img/") + id + "_cfp.png", octName = std::string("img/") + id + "_oct.png";
            const std::string cfpPath = (root / cfpName).string(), octPath = (root / octName).string();
            writeFileAtomically(cfpPath, encodePng(drawFundus(rng, options.size, st.kindA), cfpPath));
            writeFileAtomically(octPath, encodePng(drawOct(rng, options.size, st.kindB), octPath));
            files = {cfpName, octName};
            kinds = {st.kindA == 0 ? "drusen" : "haemorrhage", st.kindB == 0 ? "bumps" : "fluid"};
        }
        csv << id << ',' << st.split << ',' << (lesion ? "lesion" : "normal");
        findings << id << ',' << st.split;
        for (const auto& f : files)
            csv << ',' << f;
        for (const auto& k : kinds)
            findings << ',' << k;
        for (const auto& f : files)
            findings << ',' << f;
        csv << '\n';
        findings << '\n';
        summary.positives += lesion ? 1 : 0;
        (st.split == "train" ? summary.train : st.split == "val" ? summary.val : summary.test) += 1;
    }
    writeFileAtomically((root / "findings.csv").string(), findings.str());
    writeFileAtomically(manifest.string(), csv.str());
    return summary;
}

}  // namespace ei
