#include "core/pacs/StudyDatabase.h"

#include "core/io/DicomDirectory.h"
#include "core/io/DicomLoaderCommon.h"
#include "core/pacs/ReceivedInstance.h"
#include "models/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QVariant>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>

namespace ei {

namespace fs = std::filesystem;

namespace {

constexpr int kSchemaVersion = 1;

const char* kSchema[] = {
    "CREATE TABLE IF NOT EXISTS studies (study_uid TEXT PRIMARY KEY, patient_id TEXT, patient_name TEXT, "
    "patient_birth_date TEXT, patient_sex TEXT, study_date TEXT, study_time TEXT, accession TEXT, description TEXT, "
    "imported TEXT)",
    "CREATE TABLE IF NOT EXISTS series (series_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, modality TEXT, "
    "number TEXT, description TEXT, body_part TEXT)",
    "CREATE TABLE IF NOT EXISTS instances (sop_uid TEXT PRIMARY KEY, series_uid TEXT NOT NULL, sop_class TEXT, "
    "instance_number INTEGER, file TEXT NOT NULL, size INTEGER)",
    "CREATE INDEX IF NOT EXISTS series_by_study ON series(study_uid)",
    "CREATE INDEX IF NOT EXISTS instances_by_series ON instances(series_uid)",
};

struct Header {
    std::string file;
    std::string sopUid, sopClass, seriesUid, studyUid;
    std::string patientId, patientName, birthDate, sex, studyDate, studyTime, accession, studyDescription;
    std::string modality, seriesNumber, seriesDescription, bodyPart;
    int instanceNumber = 0;
};

std::string text(DcmDataset& d, const DcmTagKey& tag)
{
    OFString value;
    d.findAndGetOFStringArray(tag, value);
    return value.c_str();
}

// The header of a DICOM file (values over 4 KB, the pixels, are not read).
bool readHeader(const std::string& file, Header& h)
{
    DcmFileFormat format;
    if (format.loadFile(file.c_str(), EXS_Unknown, EGL_noChange, 4096).bad())
        return false;
    DcmDataset& d = *format.getDataset();
    d.convertToUTF8();
    h.file = file;
    h.sopUid = text(d, DCM_SOPInstanceUID);
    h.sopClass = text(d, DCM_SOPClassUID);
    h.seriesUid = text(d, DCM_SeriesInstanceUID);
    h.studyUid = text(d, DCM_StudyInstanceUID);
    h.patientId = text(d, DCM_PatientID);
    h.patientName = text(d, DCM_PatientName);
    h.birthDate = text(d, DCM_PatientBirthDate);
    h.sex = text(d, DCM_PatientSex);
    h.studyDate = text(d, DCM_StudyDate);
    h.studyTime = text(d, DCM_StudyTime);
    h.accession = text(d, DCM_AccessionNumber);
    h.studyDescription = text(d, DCM_StudyDescription);
    h.modality = text(d, DCM_Modality);
    h.seriesNumber = text(d, DCM_SeriesNumber);
    h.seriesDescription = text(d, DCM_SeriesDescription);
    h.bodyPart = text(d, DCM_BodyPartExamined);
    h.instanceNumber = std::atoi(text(d, DCM_InstanceNumber).c_str());
    return true;
}

QSqlQuery prepare(const QSqlDatabase& db, const QString& sql)
{
    QSqlQuery query(db);
    if (!query.prepare(sql))
        throw BadInputError(db.databaseName().toStdString(), "SQL error: " + query.lastError().text().toStdString());
    return query;
}

void run(QSqlQuery& query, const std::string& what)
{
    if (!query.exec())
        throw BadInputError(what, "the study index refused an update: " + query.lastError().text().toStdString());
}

// A DICOM wildcard pattern (* and ?) as an SQL LIKE pattern with '\' as escape.
QString likePattern(const std::string& pattern)
{
    QString out;
    for (const char c : pattern) {
        if (c == '*')
            out += '%';
        else if (c == '?')
            out += '_';
        else if (c == '%' || c == '_' || c == '\\')
            out += QString('\\') + QChar(c);
        else
            out += QChar(c);
    }
    return out;
}

QSqlDatabase database(const std::string& connection)
{
    return QSqlDatabase::database(QString::fromStdString(connection), false);
}

void copyAtomically(const std::string& from, const fs::path& to)
{
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    const fs::path temporary = to.parent_path() / ("." + to.filename().string() + ".part");
    if (ec || !fs::copy_file(from, temporary, fs::copy_options::overwrite_existing, ec) || ec) {
        fs::remove(temporary, ec);
        throw BadInputError(to.string(), "cannot copy " + from + " into the study store");
    }
    fs::rename(temporary, to, ec);
    if (ec)
        throw BadInputError(to.string(), "cannot move the copy into place: " + ec.message());
}

}  // namespace

StudyDatabase::StudyDatabase(const std::string& dir) : dir_(dir)
{
    ensureDcmtkReady();
    std::error_code ec;
    fs::create_directories(fs::path(dir) / "store", ec);
    if (ec)
        throw BadInputError(dir, "cannot create the study database folder: " + ec.message());
    static std::atomic<int> counter{0};
    connection_ = "eiview-studies-" + std::to_string(++counter);
    QSqlDatabase db = QSqlDatabase::addDatabase("QSQLITE", QString::fromStdString(connection_));
    const std::string index = (fs::path(dir) / "index.sqlite").string();
    db.setDatabaseName(QString::fromStdString(index));
    if (!db.isValid())
        throw BadInputError(index, "Qt's SQLite driver is missing (Debian package libqt6sql6-sqlite)");
    if (!db.open())
        throw BadInputError(index, "cannot open the study index: " + db.lastError().text().toStdString());
    QSqlQuery version(db);
    if (!version.exec("PRAGMA user_version") || !version.next())
        throw BadInputError(index, "is not an SQLite study index: " + version.lastError().text().toStdString());
    const int found = version.value(0).toInt();
    if (found > kSchemaVersion)
        throw BadInputError(index, "was written by a newer EIView (schema " + std::to_string(found) + ")");
    QSqlQuery setup(db);
    for (const char* statement : kSchema)
        if (!setup.exec(statement))
            throw BadInputError(index, "cannot set up the study index: " + setup.lastError().text().toStdString());
    setup.exec(QString("PRAGMA user_version = %1").arg(kSchemaVersion));
}

StudyDatabase::~StudyDatabase()
{
    {
        QSqlDatabase db = database(connection_);
        db.close();
    }
    QSqlDatabase::removeDatabase(QString::fromStdString(connection_));
}

ImportResult StudyDatabase::import(const std::vector<std::string>& paths, const std::function<bool(int, int)>& progress)
{
    ImportResult result;
    // Every header first: a bad named file refuses the import before anything is copied.
    std::vector<Header> headers;
    for (const auto& path : paths) {
        std::error_code ec;
        std::vector<std::string> candidates;
        bool named = false;
        // A DICOMDIR stands for the media it indexes: its folder is walked.
        const bool dicomDir = fs::is_regular_file(path, ec) && fs::path(path).filename() == "DICOMDIR";
        const std::string walked = dicomDir ? fs::path(path).parent_path().string() : path;
        if (fs::is_regular_file(path, ec) && !dicomDir) {
            candidates.push_back(path), named = true;
        } else if (fs::is_directory(walked, ec)) {
            candidates = listDicomFiles(walked, result.skipped);
        } else {
            throw BadInputError(path, "no such file or folder");
        }
        for (const auto& file : candidates) {
            Header h;
            if (!readHeader(file, h)) {
                if (named)
                    throw BadInputError(file, "is not a readable DICOM file; nothing was imported");
                ++result.skipped;
                continue;
            }
            if (!isDicomUid(h.sopUid) || !isDicomUid(h.seriesUid) || !isDicomUid(h.studyUid)) {
                if (named)
                    throw BadInputError(file, "lacks a valid SOP Instance, Series or Study Instance UID; nothing was imported");
                ++result.skipped;
                continue;
            }
            headers.push_back(std::move(h));
        }
    }

    QSqlDatabase db = database(connection_);
    if (!db.transaction())
        throw BadInputError(dir_, "cannot start an import: " + db.lastError().text().toStdString());
    std::vector<fs::path> copied;
    try {
        QSqlQuery known = prepare(db, "SELECT file FROM instances WHERE sop_uid = ?");
        QSqlQuery study = prepare(db, "INSERT OR IGNORE INTO studies VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))");
        QSqlQuery series = prepare(db, "INSERT OR IGNORE INTO series VALUES (?, ?, ?, ?, ?, ?)");
        QSqlQuery instance = prepare(db, "INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?)");
        std::set<std::string> seen;
        int done = 0;
        for (const Header& h : headers) {
            if (std::find(result.studyUids.begin(), result.studyUids.end(), h.studyUid) == result.studyUids.end())
                result.studyUids.push_back(h.studyUid);
            known.addBindValue(QString::fromStdString(h.sopUid));
            run(known, h.file);
            const fs::path relative = fs::path("store") / h.studyUid / h.seriesUid / (h.sopUid + ".dcm");
            if (known.next() || !seen.insert(h.sopUid).second) {
                ++result.already;
            } else {
                copyAtomically(h.file, fs::path(dir_) / relative);
                copied.push_back(fs::path(dir_) / relative);
                for (const auto& v : {h.studyUid, h.patientId, h.patientName, h.birthDate, h.sex, h.studyDate, h.studyTime,
                                      h.accession, h.studyDescription})
                    study.addBindValue(QString::fromStdString(v));
                run(study, h.file);
                for (const auto& v : {h.seriesUid, h.studyUid, h.modality, h.seriesNumber, h.seriesDescription, h.bodyPart})
                    series.addBindValue(QString::fromStdString(v));
                run(series, h.file);
                instance.addBindValue(QString::fromStdString(h.sopUid));
                instance.addBindValue(QString::fromStdString(h.seriesUid));
                instance.addBindValue(QString::fromStdString(h.sopClass));
                instance.addBindValue(h.instanceNumber);
                instance.addBindValue(QString::fromStdString(relative.string()));
                instance.addBindValue(static_cast<qlonglong>(fs::file_size(h.file)));
                run(instance, h.file);
                ++result.added;
            }
            known.finish();
            if (progress && !progress(++done, static_cast<int>(headers.size())))
                throw BadInputError(dir_, "import cancelled; nothing was imported");
        }
        if (!db.commit())
            throw BadInputError(dir_, "cannot commit the import: " + db.lastError().text().toStdString());
    } catch (...) {
        db.rollback();
        std::error_code ec;
        for (const auto& file : copied)
            fs::remove(file, ec);
        throw;
    }
    return result;
}

std::vector<DicomMatch> StudyDatabase::find(const DicomQuery& q) const
{
    checkQuery(q);
    QSqlDatabase db = database(connection_);
    QStringList where;
    QVariantList values;
    const auto match = [&](const QString& column, const std::string& value) {
        if (value.empty())
            return;
        if (value.find_first_of("*?") != std::string::npos) {
            where << column + " LIKE ? ESCAPE '\\'";
            values << likePattern(value);
        } else {
            where << column + " = ?";
            values << QString::fromStdString(value);
        }
    };
    std::vector<DicomMatch> matches;
    QString sql;
    std::vector<std::pair<int, const char*>> columns;
    if (q.level == DicomQuery::Level::Study) {
        match("st.patient_id", q.patientId);
        match("st.patient_name", q.patientName);
        match("st.accession", q.accession);
        match("st.study_uid", q.studyUid);
        match("st.description", q.description);
        if (!q.studyDate.empty()) {
            where << "st.study_date BETWEEN ? AND ?";
            values << QString::fromStdString(q.studyDate.substr(0, 8)) << QString::fromStdString(q.studyDate.substr(q.studyDate.size() - 8));
        }
        if (!q.modality.empty()) {
            where << "EXISTS (SELECT 1 FROM series m WHERE m.study_uid = st.study_uid AND m.modality = ?)";
            values << QString::fromStdString(q.modality);
        }
        sql = "SELECT st.study_uid, st.patient_name, st.patient_id, st.patient_birth_date, st.study_date, st.study_time, "
              "st.accession, st.description, "
              "(SELECT GROUP_CONCAT(DISTINCT s.modality) FROM series s WHERE s.study_uid = st.study_uid), "
              "(SELECT COUNT(*) FROM series s WHERE s.study_uid = st.study_uid), "
              "(SELECT COUNT(*) FROM instances i JOIN series s ON i.series_uid = s.series_uid WHERE s.study_uid = st.study_uid) "
              "FROM studies st";
        columns = {{0, "StudyInstanceUID"}, {1, "PatientName"}, {2, "PatientID"}, {3, "PatientBirthDate"}, {4, "StudyDate"},
                   {5, "StudyTime"}, {6, "AccessionNumber"}, {7, "StudyDescription"}, {8, "ModalitiesInStudy"},
                   {9, "NumberOfStudyRelatedSeries"}, {10, "NumberOfStudyRelatedInstances"}};
    } else {
        match("s.study_uid", q.studyUid);
        match("s.modality", q.modality);
        sql = "SELECT s.study_uid, s.series_uid, s.modality, s.number, s.description, s.body_part, "
              "(SELECT COUNT(*) FROM instances i WHERE i.series_uid = s.series_uid) FROM series s";
        columns = {{0, "StudyInstanceUID"}, {1, "SeriesInstanceUID"}, {2, "Modality"}, {3, "SeriesNumber"},
                   {4, "SeriesDescription"}, {5, "BodyPartExamined"}, {6, "NumberOfSeriesRelatedInstances"}};
    }
    if (!where.isEmpty())
        sql += " WHERE " + where.join(" AND ");
    sql += q.level == DicomQuery::Level::Study ? " ORDER BY st.study_date DESC, st.study_time DESC" : " ORDER BY CAST(s.number AS INTEGER)";
    QSqlQuery query = prepare(db, sql);
    for (const auto& v : values)
        query.addBindValue(v);
    run(query, dir_);
    while (query.next()) {
        DicomMatch m;
        for (const auto& [column, name] : columns) {
            QString value = query.value(column).toString();
            if (std::string(name) == "ModalitiesInStudy")
                value.replace(',', '\\');
            if (!value.isEmpty())
                m[name] = value.toStdString();
        }
        matches.push_back(std::move(m));
    }
    return matches;
}

std::vector<std::string> StudyDatabase::files(const std::string& studyUid, const std::string& seriesUid) const
{
    QSqlDatabase db = database(connection_);
    QSqlQuery query = prepare(db, "SELECT i.file FROM instances i JOIN series s ON i.series_uid = s.series_uid "
                                  "WHERE s.study_uid = ? AND (? = '' OR s.series_uid = ?) "
                                  "ORDER BY CAST(s.number AS INTEGER), s.series_uid, i.instance_number, i.file");
    query.addBindValue(QString::fromStdString(studyUid));
    query.addBindValue(QString::fromStdString(seriesUid));
    query.addBindValue(QString::fromStdString(seriesUid));
    run(query, dir_);
    std::vector<std::string> out;
    while (query.next())
        out.push_back((fs::path(dir_) / query.value(0).toString().toStdString()).string());
    return out;
}

void StudyDatabase::removeStudy(const std::string& studyUid)
{
    if (!isDicomUid(studyUid))
        throw UsageError("'" + studyUid + "' is not a DICOM study UID");
    QSqlDatabase db = database(connection_);
    if (!db.transaction())
        throw BadInputError(dir_, "cannot start a removal: " + db.lastError().text().toStdString());
    for (const char* sql : {"DELETE FROM instances WHERE series_uid IN (SELECT series_uid FROM series WHERE study_uid = ?)",
                            "DELETE FROM series WHERE study_uid = ?", "DELETE FROM studies WHERE study_uid = ?"}) {
        QSqlQuery query = prepare(db, sql);
        query.addBindValue(QString::fromStdString(studyUid));
        if (!query.exec()) {
            db.rollback();
            throw BadInputError(dir_, "cannot remove the study: " + query.lastError().text().toStdString());
        }
    }
    if (!db.commit())
        throw BadInputError(dir_, "cannot remove the study: " + db.lastError().text().toStdString());
    std::error_code ec;
    fs::remove_all(fs::path(dir_) / "store" / studyUid, ec);  // after the index: never an index entry without its file
}

}  // namespace ei
