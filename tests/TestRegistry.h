// One Qt Test executable per area runs several test classes. A test class registers
// itself with EI_REGISTER_TEST(ClassName) at the end of its .cpp; TestMain.cpp runs them
// all (or those named with -class NAME, repeatable; other arguments go to QTest).
#pragma once

#include <QObject>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ei::test {

struct RegisteredTest {
    std::string name;
    std::function<std::unique_ptr<QObject>()> make;
};

std::vector<RegisteredTest>& registeredTests();

template <typename T>
struct TestRegistration {
    explicit TestRegistration(const char* name)
    {
        registeredTests().push_back({name, [] { return std::unique_ptr<QObject>(new T); }});
    }
};

// Folder that holds test data fetched from Debian / npm packages by
// scripts/fetch-test-data.sh (the CTest fixture "testdata"); env EIVIEW_TESTDATA_DIR.
QString fetchedDataDir();
// tests/data in the source tree (small fixtures with a README saying where each came from).
QString sourceDataDir();
// The built eiview-cli executable (env EIVIEW_CLI), for CLI tests.
QString cliPath();
// The built eiview executable (env EIVIEW_VIEWER), for tests of its command line.
QString viewerPath();
// /usr/bin/python3 with numpy + torch from Debian (env EIVIEW_PYTHON).
QString pythonPath();

}  // namespace ei::test

#define EI_REGISTER_TEST(Class) static ::ei::test::TestRegistration<Class> eiTestRegistration_##Class(#Class)
