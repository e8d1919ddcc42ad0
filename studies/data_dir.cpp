#include "studies/data_dir.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <system_error>

#include "studies/cli.h"

// The install layout's bin -> share/attnroof step (GNUInstallDirs; studies/CMakeLists.txt).
#ifndef ATTNROOF_DATA_FROM_BINDIR
#error "ATTNROOF_DATA_FROM_BINDIR: the relative path from the install's bin to share/attnroof"
#endif

namespace attnroof::cli {

namespace fs = std::filesystem;

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The build tree's marker beside the executable: one line, the source root.
fs::path source_tree_of(const fs::path& exe_dir) {
  std::ifstream in(exe_dir / "attnroof-source-dir");
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) return {};
  return fs::path(line);
}

}  // namespace

fs::path data_dir() {
  if (const char* env = std::getenv(std::string(kDataDirEnv).c_str()); env != nullptr && *env != '\0') {
    if (!is_dir(env)) {
      throw CommandFailed(fmt::format("${} is '{}', which is not a directory (it names attnroof's "
                                      "data directory, the one holding studies/)",
                                      kDataDirEnv, env));
    }
    return fs::path(env);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::string tried = fmt::format("${} is not set", kDataDirEnv);
  if (!ec) {
    const fs::path exe_dir = exe.parent_path();
    const fs::path installed = (exe_dir / ATTNROOF_DATA_FROM_BINDIR).lexically_normal();
    if (is_dir(installed)) return installed;
    tried += fmt::format(", {} does not exist", installed.string());
    const fs::path source = source_tree_of(exe_dir);
    if (!source.empty()) {
      if (is_dir(source)) return source;
      tried += fmt::format(", the source tree {} of this build-tree binary does not exist", source.string());
    } else {
      tried += fmt::format(" and {} is not a build-tree binary", exe.string());
    }
  } else {
    tried += fmt::format(" and the executable's path is unknown (/proc/self/exe: {})", ec.message());
  }
  throw CommandFailed(fmt::format("no attnroof data directory found ({}); install attnroof "
                                  "(`cmake --install`) or set ${} to a directory holding studies/",
                                  tried, kDataDirEnv));
}

}  // namespace attnroof::cli
