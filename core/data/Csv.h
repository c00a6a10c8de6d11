// CSV as the manifests and the result tables use it (RFC 4180 quoting: a field holding a
// comma, a quote or a line break is quoted, quotes doubled).
#pragma once

#include <istream>
#include <string>
#include <vector>

namespace ei {

// One CSV record: the next line, joined with the following ones while a quoted field is
// still open (a quoted field may hold a line break). *lines gets how many lines it took.
bool readCsvRecord(std::istream& in, std::string& record, int* lines);

// The fields of one CSV record.
std::vector<std::string> splitCsvLine(const std::string& line);

// A field as written: quoted when it must be.
std::string csvField(const std::string& s);

}  // namespace ei
