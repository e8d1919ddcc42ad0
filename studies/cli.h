// defines: Context, CommandFailed, Runner, Command, commands, run_cli (the attnroof command line: one table of
// subcommands, one file per command in commands/)
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <span>
#include <string>
#include <string_view>

namespace attnroof::cli {

// What a command knows about its invocation.
struct Context {
  std::string command_line;  // the exact command, shell-quoted, as reports record it
};

// A command that ran to completion but whose result is a failure (verify: a check failed). The
// output is already written; exit status 1 with the message, not "internal error".
class CommandFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A CUDA failure on a working GPU during a run (an illegal address, a failed launch): exit
// status 3, with the point or round and its seed in the message, so that it can be replayed. A
// machine without a usable GPU is a CommandFailed (status 1) that says so.
class GpuFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command's body, run after parsing; it throws InputError on bad input.
using Runner = std::function<void()>;

struct Command {
  std::string_view name;
  std::string_view help;
  // Adds the command's options to `app` (its own subcommand) and returns its body.
  Runner (*setup)(CLI::App& app, const Context& context);
};

// Every subcommand, in `attnroof --help` order.
std::span<const Command> commands();

// The whole program (main() calls it; tests may too). Exit status: 0 ok, 1 a failure that is
// not the input's (internal error, write error, failed check, no GPU), 2 bad input (nothing
// written), 3 the GPU failed during the run (GpuFailed).
int run_cli(int argc, char** argv);

// Quotes an argument for a POSIX shell when it needs it.
std::string shell_quote(std::string_view arg);

}  // namespace attnroof::cli
