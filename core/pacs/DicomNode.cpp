#include "core/pacs/DicomNode.h"

#include "models/Error.h"

#include <cctype>

namespace ei {

std::string DicomNode::toString() const
{
    return isDicomWeb() ? url : aeTitle + "@" + host + ":" + std::to_string(port);
}

void checkAeTitle(const std::string& title, const std::string& what)
{
    if (title.empty() || title.size() > 16)
        throw UsageError(what + " '" + title + "' must have 1 to 16 characters");
    for (const char c : title) {
        if (c == '\\' || std::iscntrl(static_cast<unsigned char>(c)))
            throw UsageError(what + " '" + title + "' may not contain a backslash or control characters");
    }
    if (title.find_first_not_of(' ') == std::string::npos)
        throw UsageError(what + " may not be all spaces");
}

DicomNode DicomNode::parse(const std::string& text)
{
    DicomNode node;
    if (text.rfind("http://", 0) == 0 || text.rfind("https://", 0) == 0) {
        const auto hostStart = text.find("://") + 3;
        if (hostStart >= text.size() || text[hostStart] == '/')
            throw UsageError("node '" + text + "' names no host");
        node.url = text;
        while (!node.url.empty() && node.url.back() == '/')
            node.url.pop_back();
        return node;
    }
    const auto at = text.find('@');
    const auto colon = text.rfind(':');
    if (at == std::string::npos || colon == std::string::npos || colon < at)
        throw UsageError("node '" + text + "' is neither AET@HOST:PORT nor an http(s):// DICOMweb URL");
    node.aeTitle = text.substr(0, at);
    node.host = text.substr(at + 1, colon - at - 1);
    const std::string port = text.substr(colon + 1);
    checkAeTitle(node.aeTitle, "the node's AE title");
    if (node.host.empty())
        throw UsageError("node '" + text + "' names no host");
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
        throw UsageError("node '" + text + "': the port must be a number from 1 to 65535");
    node.port = std::stoi(port);
    return node;
}

}  // namespace ei
