// Runs every test class registered in this executable (see TestRegistry.h).
#include "tests/TestRegistry.h"

#ifdef EIVIEW_TEST_GUI
#include <QApplication>
#endif
#include <QCoreApplication>
#include <QProcessEnvironment>
#include <QStringList>
#include <QtTest>

#include <iostream>
#include <set>

namespace ei::test {

std::vector<RegisteredTest>& registeredTests()
{
    static std::vector<RegisteredTest> tests;
    return tests;
}

static QString envOr(const char* name, const QString& fallback)
{
    const QString v = qEnvironmentVariable(name);
    return v.isEmpty() ? fallback : v;
}

QString fetchedDataDir() { return envOr("EIVIEW_TESTDATA_DIR", QStringLiteral(EIVIEW_TESTDATA_DIR_DEFAULT)); }
QString sourceDataDir() { return QStringLiteral(EIVIEW_SOURCE_DIR "/tests/data"); }
QString cliPath() { return envOr("EIVIEW_CLI", QStringLiteral(EIVIEW_CLI_DEFAULT)); }
QString viewerPath() { return envOr("EIVIEW_VIEWER", QStringLiteral(EIVIEW_VIEWER_DEFAULT)); }
QString pythonPath() { return envOr("EIVIEW_PYTHON", QStringLiteral("/usr/bin/python3")); }

}  // namespace ei::test

int main(int argc, char** argv)
{
#ifdef EIVIEW_TEST_GUI
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
#else
    QCoreApplication app(argc, argv);
#endif
    std::set<std::string> selected;
    QStringList passOn{QCoreApplication::arguments().value(0)};
    const QStringList args = QCoreApplication::arguments();
    for (int i = 1; i < args.size(); ++i) {
        if (args[i] == "-class" && i + 1 < args.size())
            selected.insert(args[++i].toStdString());
        else
            passOn << args[i];
    }
    int failures = 0;
    for (const auto& t : ei::test::registeredTests()) {
        if (!selected.empty() && !selected.count(t.name))
            continue;
        auto object = t.make();
        const int rc = QTest::qExec(object.get(), passOn);
        if (rc != 0)
            std::cerr << "FAILED: " << t.name << "\n";
        failures += rc;
    }
    return failures == 0 ? 0 : 1;
}
