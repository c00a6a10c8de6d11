// A remote DICOM node as the CLI and the study browser name it: `AET@HOST:PORT` for DIMSE
// (DCMTK dcmnet) or an `http(s)://.../dicom-web` base URL for DICOMweb; plus the options
// every connection takes (our calling AE title, timeouts, TLS, HTTP authentication).
#pragma once

#include <string>

namespace ei {

struct DicomNode {
    std::string aeTitle;  // called AE title (DIMSE)
    std::string host;
    int port = 0;
    std::string url;  // DICOMweb base URL; empty for DIMSE

    bool isDicomWeb() const { return !url.empty(); }
    // "AET@HOST:PORT" or the URL, as the user wrote it: the name in every message.
    std::string toString() const;

    // Parses "AET@HOST:PORT" or "http(s)://...". Throws UsageError naming what is wrong
    // (an AE title of 1-16 characters without backslash or control characters, a port in
    // 1-65535).
    static DicomNode parse(const std::string& text);
};

// Checks an AE title (ours or a node's) as DICOM PS3.5 defines it; UsageError naming `what`.
void checkAeTitle(const std::string& title, const std::string& what);

struct NodeOptions {
    std::string callingAe = "EIVIEW";
    int timeoutSeconds = 30;  // connection, ACSE and DIMSE timeouts; an HTTP request's silence
    // TLS (DCMTK dcmtls) when tlsCa is set: the node's certificate must verify against it.
    // tlsCert + tlsKey authenticate EIView to the node (both or neither).
    std::string tlsCert, tlsKey, tlsCa;
    bool useTls() const { return !tlsCa.empty() || !tlsCert.empty(); }
    // DICOMweb: HTTP basic authentication ("user:password") or a bearer token; at most one.
    std::string httpUser, bearerToken;
};

}  // namespace ei
