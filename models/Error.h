// The one error type of EIView. Every layer throws ei::Error (or a subclass); the CLI
// maps its kind to an exit code (MODEL.md section 8) and the GUI shows its message.
// Messages name the file and the problem; they never contain patient identifiers.
#pragma once

#include <stdexcept>
#include <string>

namespace ei {

enum class ErrorKind : int {
    Usage = 2,     // wrong command line / API use
    BadInput = 3,  // an input file or config that cannot be used
    Model = 4,     // a model or weights problem
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
    int exitCode() const { return static_cast<int>(kind_); }

private:
    ErrorKind kind_;
};

class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(ErrorKind::Usage, message) {}
};

// "<file>: <problem>", or just the problem when no file is involved.
class BadInputError : public Error {
public:
    BadInputError(const std::string& file, const std::string& problem)
        : Error(ErrorKind::BadInput, file.empty() ? problem : file + ": " + problem) {}
};

class ModelError : public Error {
public:
    ModelError(const std::string& file, const std::string& problem)
        : Error(ErrorKind::Model, file.empty() ? problem : file + ": " + problem) {}
};

}  // namespace ei
