#include "core/data/Csv.h"

namespace ei {

bool readCsvRecord(std::istream& in, std::string& record, int* lines)
{
    *lines = 0;
    record.clear();
    std::string line;
    bool open = false;
    while (std::getline(in, line)) {
        ++*lines;
        if (!record.empty() || open)
            record += '\n';
        record += line;
        for (char c : line)
            if (c == '"')
                open = !open;  // a doubled quote toggles twice
        if (!open)
            return true;
    }
    return *lines > 0;
}

std::vector<std::string> splitCsvLine(const std::string& line)
{
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field.push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(field);
            field.clear();
        } else {
            field.push_back(c);
        }
    }
    fields.push_back(field);
    return fields;
}

std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string q = "\"";
    for (char c : s)
        q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

}  // namespace ei
