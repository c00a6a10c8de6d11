#include "app/cli/CliArgs.h"

#include "models/Error.h"

#include <stdexcept>
#include <string>

namespace ei::cli {

void CliArgs::parse(const std::set<std::string>& valueOptions, const std::set<std::string>& flags)
{
    for (std::size_t i = 0; i < args_.size(); ++i) {
        const std::string& a = args_[i];
        if (a == "-h" || a == "--help") {
            help_ = true;
            continue;
        }
        if (a.rfind("--", 0) != 0 || a.size() == 2) {
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2);
        std::optional<std::string> inlineValue;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            inlineValue = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (flags.count(name)) {
            if (inlineValue)
                throw UsageError("option --" + name + " takes no value");
            flags_.insert(name);
        } else if (valueOptions.count(name)) {
            if (inlineValue) {
                options_[name].push_back(*inlineValue);
            } else {
                if (i + 1 >= args_.size())
                    throw UsageError("option --" + name + " needs a value");
                options_[name].push_back(args_[++i]);
            }
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

bool CliArgs::has(const std::string& name) const
{
    return flags_.count(name) || options_.count(name);
}

std::optional<std::string> CliArgs::value(const std::string& name) const
{
    const auto it = options_.find(name);
    if (it == options_.end() || it->second.empty())
        return std::nullopt;
    return it->second.back();
}

std::string CliArgs::required(const std::string& name) const
{
    const auto v = value(name);
    if (!v)
        throw UsageError("missing required option --" + name);
    return *v;
}

std::string CliArgs::valueOr(const std::string& name, const std::string& fallback) const
{
    return value(name).value_or(fallback);
}

std::vector<std::string> CliArgs::values(const std::string& name) const
{
    const auto it = options_.find(name);
    return it == options_.end() ? std::vector<std::string>{} : it->second;
}

void CliArgs::expectPositional(std::size_t count, const std::string& what) const
{
    if (positional_.size() != count)
        throw UsageError("expected " + what + " (" + std::to_string(count) + " argument" + (count == 1 ? "" : "s") +
                         "), got " + std::to_string(positional_.size()));
}

std::pair<std::string, std::string> CliArgs::splitNameValue(const std::string& text, const std::string& option)
{
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
        throw UsageError("--" + option + " expects NAME=VALUE, got '" + text + "'");
    return {text.substr(0, eq), text.substr(eq + 1)};
}

int CliArgs::intValueOr(const std::string& name, int fallback) const
{
    const auto v = value(name);
    if (!v)
        return fallback;
    try {
        std::size_t used = 0;
        const long n = std::stol(*v, &used);
        if (used != v->size() || n < 0 || n > 1000000000)
            throw std::invalid_argument("range");
        return static_cast<int>(n);
    } catch (const std::exception&) {
        throw UsageError("--" + name + " needs a non-negative integer, got '" + *v + "'");
    }
}

}  // namespace ei::cli
