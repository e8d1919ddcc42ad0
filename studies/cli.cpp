#include "studies/cli.h"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include "model/error.h"
#include "model/json_reader.h"
#include "studies/cli_version.h"
#include "studies/commands/commands.h"
#include "studies/report/output.h"

namespace attnroof::cli {

namespace {

// The one table of subcommands. Adding a command is one row here plus commands/<name>.cpp.
constexpr std::array kCommands = {
    Command{"variants", "list the attention variants, or describe one", &setup_variants},
    Command{"presets", "list the builtin model presets, or show one with its sources", &setup_presets},
    Command{"import-hf", "a Hugging Face config.json as a preset file (for --preset FILE)", &setup_import_hf},
    Command{"hardware", "list the hardware profiles, or show one with every source", &setup_hardware},
    Command{"kv", "per-device KV cache per token per layer over variants x TP", &setup_kv},
    Command{"explain", "one decode point: every op, the stage rooflines, collectives, capacity", &setup_explain},
    Command{"sweep", "the cartesian product of any axes, streamed as a table, CSV or JSON", &setup_sweep},
    Command{"plot", "a sweep's CSV or JSON as a line plot: PNG and SVG, with its gnuplot data and script", &setup_plot},
    Command{"study", "run a named study (studies/NAME.json) into reports/NAME/", &setup_study},
    Command{"verify", "float64 reference checks: forms, TP shards, KV bytes, translation equivariance", &setup_verify},
    Command{"validate-kernels", "GPU: every CUDA decode kernel against the float64 reference", &setup_validate_kernels},
    Command{"bench-kernels", "GPU: kernel times vs the measured bandwidth and tensor ceilings", &setup_bench_kernels},
    Command{"tp-step", "GPUs + NCCL: one TP decode step per rank's shard, validated and timed", &setup_tp_step},
    Command{"tp-collectives", "GPUs + NCCL: all-reduce, reduce-scatter, all-gather times over buffer size", &setup_tp_collectives},
    Command{"calibrate", "fit the decode time model to measured kernel times: a calibration profile", &setup_calibrate},
    Command{"fidelity", "measured kernel times against a calibration profile's predictions", &setup_fidelity},
};

// An option given with an empty value ("--contexts ''", "variants ''") is a slip, never a way to
// say "the default" or "everything": refuse it by name. Flags take no value and are skipped.
void reject_empty_values(const CLI::App& sub) {
  for (const CLI::Option* opt : sub.get_options()) {
    if (opt->get_type_size() == 0) continue;
    for (const std::string& value : opt->results()) {
      if (value.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw InputError(fmt::format("{}: empty value; leave the option out for its default",
                                     opt->get_name()));
      }
    }
  }
}

}  // namespace

std::span<const Command> commands() { return kCommands; }

std::string shell_quote(std::string_view arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-+=./:,@%") == std::string_view::npos) {
    return std::string(arg);
  }
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out += "'";
  return out;
}

namespace {

// A command's output to stdout is buffered: a full disk or a closed pipe may only show when it is
// flushed. Status 1 with the reason, never 0 with the output lost.
int flush_stdout() {
  const bool flushed = std::fflush(stdout) == 0;
  if (flushed && std::ferror(stdout) == 0) return 0;
  fmt::print(stderr, "error: writing standard output: {}\n",
             flushed ? "an earlier write failed" : std::strerror(errno));
  return 1;
}

}  // namespace

int run_cli(int argc, char** argv) {
  Context context;
  context.command_line = "attnroof";
  for (int i = 1; i < argc; ++i) context.command_line += " " + shell_quote(argv[i]);

  CLI::App app{"attnroof: analytic roofline predictions of LLM attention decode per GPU under "
               "tensor parallelism (per layer, per device, per decode step unless a name says "
               "otherwise)",
               "attnroof"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text());
  app.footer(
      "Examples:\n"
      "  attnroof presets\n"
      "  attnroof kv --tp 1,2,4,8\n"
      "  attnroof explain --preset llama3_70b --tp 8 --batch 16 --context 32k\n"
      "  attnroof sweep --preset llama3_70b --tp 1,2,4,8 --context 4k:1m:x2 --format csv -o s.csv\n"
      "  attnroof study paper\n"
      "Run `attnroof COMMAND --help` for a command's options and examples.\n"
      "Exit status: 0 done; 2 bad input (one message naming the option or file, nothing written);\n"
      "1 another failure (a write error naming the file, a failed check, no usable GPU); 3 the GPU\n"
      "failed during a run (the message names the point or round and its seed). -o rules, file\n"
      "size, JSON depth and sweep limits: README.md, \"Input, output and limits\".");

  std::map<const CLI::App*, std::pair<std::string_view, Runner>> runners;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(std::string(c.name), std::string(c.help));
    runners[sub] = {c.name, c.setup(*sub, context)};
  }

  // CLI11 answers an unknown first word with "A subcommand is required": name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string_view word = argv[1];
    std::string names;
    bool known = false;
    for (const Command& c : kCommands) {
      known = known || c.name == word;
      names += (names.empty() ? "" : ", ") + std::string(c.name);
    }
    if (!known) {
      fmt::print(stderr, "error: unknown command '{}'; commands: {}\n(run `attnroof --help`)\n",
                 model::excerpt(word), names);
      return 2;
    }
  }

  std::string_view command = "attnroof";
  try {
    try {
      // Integer and real options convert while parsing, so an InputError can come from here:
      // name the command it belongs to.
      command = argc > 1 && argv[1][0] != '-' ? std::string_view(argv[1]) : command;
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      const int code = app.exit(e);
      return code == 0 ? 0 : 2;  // --help/--version are 0; every parse error is bad input
    }
    for (const auto& [sub, named] : runners) {
      if (sub->parsed()) {
        command = named.first;
        reject_empty_values(*sub);
        named.second();
        return flush_stdout();
      }
    }
    fmt::print(stderr, "error: no command given; run `attnroof --help`\n");
    return 2;
  } catch (const InputError& e) {
    fmt::print(stderr, "error: {}: {}\n", command, e.what());
    return 2;
  } catch (const report::IoError& e) {
    fmt::print(stderr, "error: {}: {}\n", command, e.what());
    return 1;
  } catch (const CommandFailed& e) {
    fmt::print(stderr, "{}: {}\n", command, e.what());
    return 1;
  } catch (const GpuFailed& e) {
    fmt::print(stderr, "{}: {}\n", command, e.what());
    return 3;
  } catch (const std::exception& e) {
    if (std::ferror(stdout) != 0) {  // fmt::print(stdout, ...) throws when the write fails
      fmt::print(stderr, "error: {}: writing standard output: {}\n", command, e.what());
      return 1;
    }
    fmt::print(stderr, "internal error: {}: {}\n(this is a bug in attnroof, not in the input)\n",
               command, e.what());
    return 1;
  } catch (...) {
    fmt::print(stderr, "internal error: {}: unknown exception\n", command);
    return 1;
  }
}

}  // namespace attnroof::cli
