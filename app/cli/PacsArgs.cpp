#include "app/cli/PacsArgs.h"

#include "models/Error.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace ei::cli {

std::set<std::string> pacsOptionNames(std::set<std::string> more)
{
    more.insert({"node", "calling-ae", "timeout", "tls-cert", "tls-key", "tls-ca", "user", "token"});
    return more;
}

DicomNode pacsNode(const CliArgs& args)
{
    return DicomNode::parse(args.required("node"));
}

NodeOptions nodeOptions(const CliArgs& args)
{
    NodeOptions options;
    options.callingAe = args.valueOr("calling-ae", options.callingAe);
    options.timeoutSeconds = args.intValueOr("timeout", options.timeoutSeconds);
    if (options.timeoutSeconds < 1)
        throw UsageError("--timeout must be at least 1 second");
    options.tlsCert = args.valueOr("tls-cert", "");
    options.tlsKey = args.valueOr("tls-key", "");
    options.tlsCa = args.valueOr("tls-ca", "");
    if (options.tlsCert.empty() != options.tlsKey.empty())
        throw UsageError("--tls-cert and --tls-key go together");
    checkAeTitle(options.callingAe, "--calling-ae");
    // Secrets may come from the environment, where `ps` does not show them.
    const char* user = std::getenv("EIVIEW_DICOMWEB_USER");
    const char* token = std::getenv("EIVIEW_DICOMWEB_TOKEN");
    options.httpUser = args.valueOr("user", user ? user : "");
    options.bearerToken = args.valueOr("token", token ? token : "");
    if (args.has("user") && args.has("token"))
        throw UsageError("give --user or --token, not both");
    return options;
}

TransferProgressFn printProgress(const std::string& verb)
{
    return [verb](const TransferCounts& counts) {
        std::cerr << verb << ": " << counts.completed << " done, " << counts.failed << " failed";
        if (counts.remaining >= 0)
            std::cerr << ", " << counts.remaining << " remaining";
        std::cerr << "\n";
        return true;
    };
}

int reportTransfer(const std::string& verb, const DicomNode& node, const TransferResult& result, nlohmann::json summary)
{
    summary["node"] = node.toString();
    summary["completed"] = result.counts.completed;
    summary["failed"] = result.counts.failed;
    summary["warnings"] = result.counts.warnings;
    summary["failures"] = result.failures;
    std::cout << summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    if (result.counts.failed > 0 || !result.failures.empty()) {
        std::string first = result.failures.empty() ? "the node reported failed sub-operations" : result.failures.front();
        throw BadInputError(node.toString(), verb + ": " + std::to_string(std::max<std::size_t>(result.failures.size(), result.counts.failed)) +
                                                 " instance(s) failed; first: " + first);
    }
    return 0;
}

}  // namespace ei::cli
