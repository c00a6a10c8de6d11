// A small command-line parser for eiview-cli: positional arguments, `--name value`
// options (repeatable, e.g. `--input CFP=a.png --input OCT=b.dcm`), and flags.
// Options must be declared by the command; an unknown option is a usage error (exit 2).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ei::cli {

class CliArgs {
public:
    // argv after the command name.
    explicit CliArgs(std::vector<std::string> args) : args_(std::move(args)) {}

    // Declares the accepted options (names without "--") and flags, then parses.
    // Throws ei::UsageError for unknown options or a missing option value.
    void parse(const std::set<std::string>& valueOptions, const std::set<std::string>& flags);

    bool has(const std::string& name) const;                      // option or flag given
    std::optional<std::string> value(const std::string& name) const;  // last value
    std::string required(const std::string& name) const;          // UsageError when absent
    std::string valueOr(const std::string& name, const std::string& fallback) const;
    std::vector<std::string> values(const std::string& name) const;  // all values, in order
    // A non-negative integer option; UsageError naming it for anything else.
    int intValueOr(const std::string& name, int fallback) const;
    const std::vector<std::string>& positional() const { return positional_; }
    // Exactly `count` positional arguments, else UsageError naming `what`.
    void expectPositional(std::size_t count, const std::string& what) const;
    bool helpRequested() const { return help_; }

    // "NAME=VALUE" -> {NAME, VALUE}; UsageError otherwise.
    static std::pair<std::string, std::string> splitNameValue(const std::string& text, const std::string& option);

private:
    std::vector<std::string> args_;
    std::map<std::string, std::vector<std::string>> options_;
    std::set<std::string> flags_;
    std::vector<std::string> positional_;
    bool help_ = false;
};

}  // namespace ei::cli
