// Series discovery in folders and DICOMDIRs (see DicomDirectory.h).
#include "core/io/DicomDirectory.h"

#include "core/io/DicomLoader.h"
#include "core/io/DicomLoaderCommon.h"
#include "models/Error.h"

#include <algorithm>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace ei {

namespace {

long seriesNumberOf(const DicomSeriesEntry& s)
{
    try {
        return s.seriesNumber.empty() ? 0 : std::stol(s.seriesNumber);
    } catch (...) {
        return 0;
    }
}

void sortSeries(std::vector<DicomSeriesEntry>& list)
{
    std::stable_sort(list.begin(), list.end(), [](const DicomSeriesEntry& a, const DicomSeriesEntry& b) {
        if (seriesNumberOf(a) != seriesNumberOf(b))
            return seriesNumberOf(a) < seriesNumberOf(b);
        return a.seriesUid < b.seriesUid;
    });
}

}  // namespace

std::vector<DicomSeriesEntry> scanDicomFolder(const std::string& dir, const JobControl* control)
{
    ensureDcmtkReady();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw BadInputError(dir, "is not a readable folder");
    std::vector<std::string> files;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec)
        throw BadInputError(dir, "cannot list the folder: " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            throw BadInputError(dir, "cannot list the folder: " + ec.message());
        if (it->is_regular_file(ec) && hasDicomPreamble(it->path().string()))
            files.push_back(it->path().string());
    }
    std::sort(files.begin(), files.end());

    std::map<std::string, DicomSeriesEntry> byUid;
    std::vector<std::string> uidOrder;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const std::string& f = files[i];
        if (control)
            control->checkpoint(static_cast<double>(i) / static_cast<double>(files.size()), "scanning the series");
        DcmFileFormat file;
        // Header only: stop before the pixel data so a folder scan stays fast.
        if (file.loadFileUntilTag(f.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                                  DCM_PixelData)
                .bad())
            continue;
        if (isDicomDirObject(file))
            continue;
        DcmDataset* ds = file.getDataset();
        if (!ds->tagExists(DCM_Rows))
            continue;  // not an image (structured report, presentation state, ...)
        convertToUtf8(ds);
        const std::string uid = dicomString(ds, DCM_SeriesInstanceUID);
        auto [pos, inserted] = byUid.try_emplace(uid);
        if (inserted) {
            uidOrder.push_back(uid);
            pos->second.seriesUid = uid;
            pos->second.modality = dicomString(ds, DCM_Modality);
            pos->second.description = dicomString(ds, DCM_SeriesDescription);
            pos->second.seriesNumber = dicomString(ds, DCM_SeriesNumber);
        }
        pos->second.files.push_back(f);
    }
    std::vector<DicomSeriesEntry> out;
    for (const auto& uid : uidOrder)
        out.push_back(std::move(byUid[uid]));
    sortSeries(out);
    return out;
}

std::vector<std::string> listDicomFiles(const std::string& dir, int& skipped)
{
    namespace fs = std::filesystem;
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec))
            continue;
        const std::string name = it->path().filename().string();
        if (name.front() == '.')
            continue;
        if (name == "DICOMDIR" || !hasDicomPreamble(it->path().string()))
            ++skipped;
        else
            files.push_back(it->path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

bool isDicomDirFile(const std::string& path)
{
    ensureDcmtkReady();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec) || !hasDicomPreamble(path))
        return false;
    DcmFileFormat file;
    if (file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                              DCM_DirectoryRecordSequence)
            .bad())
        return false;
    return isDicomDirObject(file);
}

std::vector<DicomSeriesEntry> readDicomDir(const std::string& path)
{
    ensureDcmtkReady();
    DcmFileFormat file;
    const OFCondition status = file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    if (status.bad())
        throw BadInputError(path, std::string("not a readable DICOMDIR (") + status.text() + ")");
    if (!isDicomDirObject(file))
        throw BadInputError(path, "is not a DICOMDIR");
    convertToUtf8(file.getDataset());
    DcmSequenceOfItems* records = nullptr;
    if (file.getDataset()->findAndGetSequence(DCM_DirectoryRecordSequence, records).bad() || records == nullptr)
        throw BadInputError(path, "DICOMDIR has no directory record sequence");
    const fs::path base = fs::path(path).parent_path();

    std::vector<DicomSeriesEntry> out;
    for (unsigned long i = 0; i < records->card(); ++i) {
        DcmItem* rec = records->getItem(i);
        const std::string type = dicomString(rec, DCM_DirectoryRecordType);
        if (type == "SERIES") {
            DicomSeriesEntry s;
            s.seriesUid = dicomString(rec, DCM_SeriesInstanceUID);
            s.modality = dicomString(rec, DCM_Modality);
            s.description = dicomString(rec, DCM_SeriesDescription);
            s.seriesNumber = dicomString(rec, DCM_SeriesNumber);
            out.push_back(std::move(s));
            continue;
        }
        std::string ref = dicomString(rec, DCM_ReferencedFileID);
        if (ref.empty() || type == "PATIENT" || type == "STUDY")
            continue;
        if (out.empty())
            throw BadInputError(path, "DICOMDIR lists a file (" + ref + ") outside any SERIES record");
        std::replace(ref.begin(), ref.end(), '\\', '/');
        fs::path file = base / ref;
        std::error_code ec;
        if (!fs::exists(file, ec)) {
            // Media written on case-insensitive systems: try the lower-case spelling.
            std::string lower = ref;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (fs::exists(base / lower, ec))
                file = base / lower;
        }
        out.back().files.push_back(file.string());
    }
    out.erase(std::remove_if(out.begin(), out.end(), [](const DicomSeriesEntry& s) { return s.files.empty(); }), out.end());
    return out;
}

}  // namespace ei
