// Text and CSV files as the tests read results back (predict's tables, partial files,
// manifests).
#pragma once

#include "core/data/Csv.h"

#include <QString>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace ei::test {

inline std::string fileText(const QString& path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every non-empty line of a CSV file split into its fields, the header included.
inline std::vector<std::vector<std::string>> csvRows(const QString& path)
{
    std::vector<std::vector<std::string>> rows;
    std::istringstream in(fileText(path));
    for (std::string line; std::getline(in, line);)
        if (!line.empty())
            rows.push_back(splitCsvLine(line));
    return rows;
}

}  // namespace ei::test
