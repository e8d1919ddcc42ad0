// defines: run_cli_binary, TempDir (run the real attnroof binary with its output captured)
#pragma once
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>

namespace attnroof::test {

struct CliResult {
  int status = -1;
  std::string out;
  std::string err;
};

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "attnroof_cli_XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  // Files in the directory (to assert that nothing was written).
  std::size_t count() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `attnroof ARGS` (ARGS is shell text) with stdout and stderr captured to files; in
// `workdir` when given (for commands that write relative paths); `env` is shell assignments put
// before the command ("PATH=/nonexistent").
inline CliResult run_cli_binary(const std::string& args, const std::string& workdir = "",
                                const std::string& env = "") {
  TempDir io;
  const std::string cd = workdir.empty() ? "" : "cd '" + workdir + "' && ";
  const std::string cmd = cd + env + (env.empty() ? "'" : " '") + ATTNROOF_BINARY_PATH + "' " + args + " >'" +
                          (io / "out").string() + "' 2>'" + (io / "err").string() + "'";
  const int raw = std::system(cmd.c_str());
  CliResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(io / "out");
  r.err = slurp(io / "err");
  return r;
}

}  // namespace attnroof::test
