// defines: attnroof::InputError (bad user input: exit status 2), attnroof::format_problems
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace attnroof {

// Bad input from the user (flags, config files, presets, hardware names). The CLI prints it and
// exits with status 2 without writing anything. The message names the field, the value and the
// rule, and lists the valid choices where there is a closed set.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "header:\n  - p1\n  - p2": one message for every problem found, so a user fixes them at once.
std::string format_problems(const std::string& header, const std::vector<std::string>& problems);

// Throws InputError(format_problems(header, problems)) when problems is not empty.
void throw_if_problems(const std::string& header, const std::vector<std::string>& problems);

}  // namespace attnroof
