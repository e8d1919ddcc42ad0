// Where output goes, driven through the real binary: -o onto files (mode kept), symlinks, fifos,
// character devices, directories and missing parents; write errors (stdout on /dev/full, a file
// past the file-size limit); SIGINT/SIGTERM leaving no temporaries; study names and ids that
// would escape or collide; plot inputs that would break gnuplot.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "studies/report/gnuplot.h"
#include "tests/cli/cli_test_util.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using attnroof::test::CliResult;
using attnroof::test::run_cli_binary;
using attnroof::test::slurp;
using attnroof::test::TempDir;
using Catch::Matchers::Contains;

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The raw exit status of a shell command line.
int shell_status(const std::string& cmd) {
  const int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

// `kv` as CSV is small and always lists llama3_70b.
const std::string kKvCsv = "kv --format csv -o ";

fs::perms mode_of(const fs::path& p) { return fs::status(p).permissions() & fs::perms::mask; }

bool any_entry_starts_with(const fs::path& dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
  }
  return false;
}

// Waits (up to 30 s) until `ready` holds.
template <class F>
bool wait_for(F ready) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Starts attnroof ARGS in its own process group, output discarded, SIGINT and SIGTERM at their
// default (a test runner may have them ignored), with `path_prefix` put in front of PATH.
pid_t spawn_attnroof(const std::vector<std::string>& args, const std::string& path_prefix = "") {
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    if (kv.rfind("PATH=", 0) == 0 && !path_prefix.empty()) {
      env_store.push_back("PATH=" + path_prefix + ":" + kv.substr(5));
    } else {
      env_store.push_back(kv);
    }
  }
  std::vector<char*> envp;
  for (std::string& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store = {ATTNROOF_BINARY_PATH};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &files, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  REQUIRE(rc == 0);
  return pid;
}

// The signal that ended `pid` (0 if it exited).
int terminating_signal(pid_t pid) {
  int raw = 0;
  REQUIRE(::waitpid(pid, &raw, 0) == pid);
  return WIFSIGNALED(raw) ? WTERMSIG(raw) : 0;
}

// A study file with the given name and sections.
fs::path write_study(const TempDir& dir, const std::string& name, const std::string& sections) {
  const fs::path p = dir / "study.json";
  std::ofstream(p) << R"({"schema_version": 1, "name": ")" << name << R"(", "title": "T", "sections": [)"
                   << sections << "]}";
  return p;
}

const std::string kKvSection =
    R"({"type": "kv_table", "id": "kv", "title": "KV", "models": [{"preset": "llama3_70b"}], "tp": [1, 8]})";

CliResult run_study(const fs::path& study, const fs::path& out_dir) {
  return run_cli_binary("study " + quoted(study) + " --no-plots --out-dir " + quoted(out_dir));
}

}  // namespace

TEST_CASE("output (-o) onto an existing file replaces it atomically and keeps its mode", "[cli][io]") {
  TempDir dir;
  const fs::path file = dir / "kv.csv";
  std::ofstream(file) << "old\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  const CliResult r = run_cli_binary(kKvCsv + quoted(file));
  REQUIRE(r.status == 0);
  CHECK_THAT(slurp(file), Contains("llama3_70b"));
  CHECK(mode_of(file) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(dir.count() == 1);  // no temporary left beside it
}

TEST_CASE("output (-o) onto a symlink writes its final target and leaves the links", "[cli][io]") {
  TempDir dir;
  fs::create_symlink("real.csv", dir / "link.csv");  // dangling: the target is created
  fs::create_symlink("link.csv", dir / "link2.csv");
  const CliResult r = run_cli_binary(kKvCsv + quoted(dir / "link2.csv"));
  REQUIRE(r.status == 0);
  CHECK(fs::is_symlink(dir / "link.csv"));
  CHECK(fs::is_symlink(dir / "link2.csv"));
  CHECK(fs::is_regular_file(fs::symlink_status(dir / "real.csv")));
  CHECK_THAT(slurp(dir / "real.csv"), Contains("llama3_70b"));
  CHECK(dir.count() == 3);
}

TEST_CASE("output (-o) onto a fifo streams into it and it stays a fifo", "[cli][io]") {
  TempDir dir;
  const fs::path fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string got;
  std::thread reader([&] { got = slurp(fifo); });
  const CliResult r = run_cli_binary(kKvCsv + quoted(fifo));
  // Should attnroof not have opened the fifo, a writer opened here ends the reader's wait.
  const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (fd >= 0) ::close(fd);
  reader.join();
  CHECK(r.status == 0);
  CHECK_THAT(got, Contains("llama3_70b"));
  CHECK(fs::is_fifo(fifo));
  CHECK(dir.count() == 1);
}

TEST_CASE("output (-o) onto a character device writes to it and it stays a device", "[cli][io]") {
  TempDir dir;
  const fs::path node = dir / "null";
  if (::mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    WARN("SKIPPED: mknod needs root here (" << std::strerror(errno) << "); the device case is untested");
    return;
  }
  const int fd = ::open(node.c_str(), O_WRONLY);
  if (fd < 0) {
    WARN("SKIPPED: a device node made here cannot be opened (" << std::strerror(errno) << ")");
    return;
  }
  ::close(fd);
  const CliResult r = run_cli_binary(kKvCsv + quoted(node));
  CHECK(r.status == 0);
  CHECK(fs::is_character_file(node));
  CHECK(dir.count() == 1);
}

TEST_CASE("output (-o) onto a directory is refused before any work", "[cli][io]") {
  TempDir dir;
  // Evaluated, this sweep would take minutes; refused, it returns at once.
  const auto start = std::chrono::steady_clock::now();
  const CliResult r = run_cli_binary(
      "sweep --preset llama3_70b --context 1:1m:+1 --batch 1:16:+1 --format csv -q -o " + quoted(dir.path()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("is a directory"));
  CHECK(seconds < 20);
  CHECK(dir.count() == 0);
}

TEST_CASE("output (-o) into a missing directory names it", "[cli][io]") {
  TempDir dir;
  const CliResult r = run_cli_binary(kKvCsv + quoted(dir / "nope/kv.csv"));
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains((dir / "nope").string()) && Contains("does not exist"));
  CHECK(dir.count() == 0);
}

TEST_CASE("a full stdout is an I/O error, not a success", "[cli][io]") {
  if (!fs::exists("/dev/full")) {
    WARN("SKIPPED: no /dev/full");
    return;
  }
  TempDir dir;
  // kv writes through an Output; variants prints directly: both are checked at the end.
  for (const std::string command : {"kv", "variants", "sweep --preset llama3_70b --context 1k:64k:+1k"}) {
    INFO(command);
    const int status = shell_status("'" ATTNROOF_BINARY_PATH "' " + command + " >/dev/full 2>" + quoted(dir / "err"));
    CHECK(status == 1);
    const std::string err = slurp(dir / "err");
    CHECK_THAT(err, Contains("writing standard output") && Contains("No space left on device"));
    CHECK_THAT(err, !Contains("bug"));
  }
}

TEST_CASE("output (-o) past the file-size limit is an I/O error naming the file, and leaves nothing", "[cli][io]") {
  TempDir dir;
  // ulimit -f 1: 512 or 1024 bytes; the CSV is tens of kB. SIGXFSZ is ignored by attnroof, so the
  // write fails with EFBIG (a full disk, ENOSPC, takes the same path).
  const fs::path out = dir / "s.csv";
  const int status = shell_status("(ulimit -f 1; exec '" ATTNROOF_BINARY_PATH
                                  "' sweep --preset llama3_70b --context 1k:256k:+1k --format csv -q -o " +
                                  quoted(out) + ") 2>" + quoted(dir / "err"));
  CHECK(status == 1);
  const std::string err = slurp(dir / "err");
  CHECK_THAT(err, Contains(out.string()) && Contains("File too large"));
  CHECK_THAT(err, !Contains("bug"));
  fs::remove(dir / "err");
  CHECK(dir.count() == 0);
}

TEST_CASE("SIGINT during sweep -o removes the temporary file", "[cli][io]") {
  TempDir dir;
  const fs::path out = dir / "s.csv";
  const pid_t pid = spawn_attnroof({"sweep", "--preset", "llama3_70b", "--context", "1:1m:+1", "--batch",
                                    "1:64:+1", "--format", "csv", "-q", "-o", out.string()});
  const bool started = wait_for([&] { return any_entry_starts_with(dir.path(), "s.csv.tmp."); });
  ::kill(pid, SIGINT);
  CHECK(terminating_signal(pid) == SIGINT);
  REQUIRE(started);
  CHECK(dir.count() == 0);
}

TEST_CASE("SIGTERM during a study removes its temporary directory and the parents it made", "[cli][io]") {
  TempDir dir;
  // A stand-in gnuplot that writes into the report's temporary directory and then hangs: the
  // study is caught mid-run, deterministically.
  fs::create_directory(dir / "bin");
  std::ofstream(dir / "bin/gnuplot") << "#!/bin/sh\ntouch extra.png \"$0.started\"\nexec sleep 60\n";
  fs::permissions(dir / "bin/gnuplot", fs::perms::owner_all);
  const fs::path study = write_study(dir, "slow", kKvSection + R"(, {"type": "sweep", "id": "t", "title": "T",
    "models": [{"preset": "llama3_70b"}], "context": "4k:16k:x2", "plot": {"type": "lines"}})");
  const pid_t pid =
      spawn_attnroof({"study", study.string(), "--out-dir", (dir / "out/reports").string()}, (dir / "bin").string());
  const bool started = wait_for([&] { return fs::exists(dir / "bin/gnuplot.started"); });
  CHECK(started);
  CHECK(any_entry_starts_with(dir / "out/reports", ".slow.tmp."));
  ::kill(-pid, SIGTERM);  // the group: attnroof, the shell and the stand-in
  CHECK(terminating_signal(pid) == SIGTERM);
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("a study name that is not one safe path component is refused and creates nothing", "[cli][io]") {
  TempDir dir;
  const std::string absolute = (dir / "abs").string();
  const std::string name = GENERATE_COPY(as<std::string>{}, "../x", "a/b", absolute, "", ".", "..", "A B");
  INFO(name);
  const fs::path study = write_study(dir, name, kKvSection);
  const CliResult r = run_study(study, dir / "out/reports");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/name") && Contains("lower-case letters, digits and '_'"));
  CHECK(dir.count() == 1);  // the study file only: no out/, no x, no abs
  CHECK_FALSE(fs::exists(absolute));
}

TEST_CASE("a study does not replace a directory that is not a report", "[cli][io]") {
  TempDir dir;
  fs::create_directories(dir / "out/mine");
  std::ofstream(dir / "out/mine/keep.txt") << "mine\n";
  const CliResult r = run_study(write_study(dir, "mine", kKvSection), dir / "out");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("is not an attnroof report") && Contains("--out-dir"));
  CHECK(slurp(dir / "out/mine/keep.txt") == "mine\n");
  // A previous report is replaced.
  fs::remove(dir / "out/mine/keep.txt");
  REQUIRE(run_study(dir / "study.json", dir / "out").status == 0);
  REQUIRE(run_study(dir / "study.json", dir / "out").status == 0);
  CHECK(fs::exists(dir / "out/mine/report.json"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "out")) ++entries;
  CHECK(entries == 1);  // nothing moved aside is left
}

TEST_CASE("a failing study creates no --out-dir", "[cli][io]") {
  TempDir dir;
  const fs::path study = write_study(dir, "fails", kKvSection + R"(, {"type": "kv_table", "id": "b", "title": "B",
    "models": [{"preset": "no_such_preset"}]})");
  const CliResult r = run_study(study, dir / "out/reports");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("no_such_preset"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("duplicate section ids are refused, naming both sections", "[cli][io]") {
  TempDir dir;
  const CliResult r = run_study(write_study(dir, "dup", kKvSection + ", " + kKvSection), dir / "out");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/sections/1/id") && Contains("/sections/0") && Contains("'kv'"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("a plot divisor must be a finite number > 0", "[cli][io]") {
  TempDir dir;
  const std::string key = GENERATE(as<std::string>{}, "x_divisor", "y_divisor");
  const std::string value = GENERATE(as<std::string>{}, "0", "-1024");
  INFO(key << " = " << value);
  const fs::path study = write_study(dir, "div", R"({"type": "sweep", "id": "t", "title": "T",
    "models": [{"preset": "llama3_70b"}], "context": "4k:16k:x2", "plot": {"type": "lines", ")" +
                                                     key + "\": " + value + "}}");
  const CliResult r = run_study(study, dir / "out");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/plot/" + key) && Contains("finite number > 0"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("labels and titles in a study are one line", "[cli][io]") {
  TempDir dir;
  const CliResult r = run_study(write_study(dir, "nl", R"({"type": "kv_table", "id": "kv", "title": "KV",
    "models": [{"preset": "llama3_70b", "label": "two\nlines"}]})"),
                                dir / "out");
  CHECK(r.status == 2);
  CHECK_THAT(r.err, Contains("/models/0/label") && Contains("control character"));
  CHECK_FALSE(fs::exists(dir / "out"));
}

TEST_CASE("gnuplot scripts escape control characters in titles", "[cli][io]") {
  TempDir dir;
  attnroof::report::LinePlot plot;
  plot.title = "two\nlines \"quoted\"";
  plot.x_label = "x";
  plot.y_label = "y\ty";
  plot.series.push_back({"s\x01", {1, 2}, {3, 4}});
  const std::string script = attnroof::report::write_line_plot(dir.path(), "p", plot);
  const std::string gp = slurp(dir / script);
  CHECK_THAT(gp, Contains(R"(set title "two\012lines \"quoted\"")") && Contains(R"(set ylabel "y\011y")") &&
                     Contains(R"(title "s\001")"));
  const std::string dat = slurp(dir / "p.dat");
  CHECK(dat.rfind("# two lines \"quoted\"\n# x: x\n# y: y y\n# series: s \n1 3\n", 0) == 0);
  if (shell_status("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") != 0) {
    WARN("SKIPPED: gnuplot with pngcairo is not installed; the script was not run");
    return;
  }
  CHECK(shell_status("cd " + quoted(dir.path()) + " && gnuplot p.gp >/dev/null 2>&1") == 0);
  CHECK(fs::file_size(dir / "p.svg") > 0);
}
