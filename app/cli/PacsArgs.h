// The options every network command takes: --node (AET@HOST:PORT or a DICOMweb URL),
// --calling-ae (default EIVIEW), --timeout SECONDS, --tls-cert/--tls-key/--tls-ca,
// --user/--token (DICOMweb); and
// the progress line they print on stderr.
#pragma once

#include "app/cli/CliArgs.h"
#include "core/pacs/DicomNode.h"
#include "core/pacs/PacsClient.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace ei::cli {

std::set<std::string> pacsOptionNames(std::set<std::string> more);
inline constexpr const char* kPacsSynopsis =
    " [--calling-ae AET] [--timeout SECONDS] [--tls-cert PEM --tls-key PEM] [--tls-ca PEM] [--user USER:PASSWORD | --token T]";
inline constexpr const char* kPacsHelp =
    "  --node: AET@HOST:PORT (DIMSE) or an http(s)://.../dicom-web base URL (DICOMweb).\n"
    "  --calling-ae: EIView's AE title (default EIVIEW); the node must know it.\n"
    "  --timeout: seconds to wait for a connection or an answer (default 30).\n"
    "  --tls-ca: DICOM over TLS; the node's certificate must verify against this CA.\n"
    "  --tls-cert/--tls-key: EIView's own certificate and key, where the node asks for one.\n"
    "  --user/--token: DICOMweb login (HTTP basic or bearer); or EIVIEW_DICOMWEB_USER / EIVIEW_DICOMWEB_TOKEN.\n";

DicomNode pacsNode(const CliArgs& args);
NodeOptions nodeOptions(const CliArgs& args);
// Prints "<verb>: N done, F failed, R remaining" to stderr; never cancels.
TransferProgressFn printProgress(const std::string& verb);
// Prints the outcome of a transfer (`summary` plus node and counts) as JSON on stdout;
// throws BadInputError (exit 3) when any instance failed.
int reportTransfer(const std::string& verb, const DicomNode& node, const TransferResult& result, nlohmann::json summary);

}  // namespace ei::cli
