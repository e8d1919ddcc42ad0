// defines: IoError, Output (where -o writes: stdout, a file replaced atomically, or a device or
// fifo streamed to), write_file_atomic, AtomicDir (the same for a report directory)
//
// What -o PATH does, decided when the Output is made (before any work, so a refused path costs
// nothing):
//   "" or "-"              stdout
//   a regular file / none  written to PATH.tmp.PID beside it, renamed onto it by commit(); an
//                          existing file keeps its mode (and owner where permitted)
//   a symlink              followed to its final target, which is written as above (the link
//                          stays a link)
//   a device, fifo, ...    opened and streamed to (/dev/null, /dev/stdout, a pipe)
//   a directory            refused (InputError), as is a missing parent directory
// Dropped without commit (an error, an exception) an Output leaves nothing behind, and neither
// does SIGINT/SIGTERM (studies/report/temporaries.h).
#pragma once
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "studies/report/temporaries.h"

namespace attnroof::report {

// Writing failed (disk full, file too large, a closed pipe): exit status 1, the message names the
// file and the system's reason. Not bad input and not a bug.
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Output {
 public:
  // `field` names the option in errors ("-o").
  Output(const std::string& path, std::string_view field);
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output();

  std::FILE* file() const { return file_; }
  bool is_stdout() const { return kind_ == Kind::standard_output; }
  void write(std::string_view s);
  // Flushes and reports any write error; a file is then renamed into place.
  void commit();

 private:
  enum class Kind { standard_output, atomic_file, stream };
  [[noreturn]] void fail(int error);  // an IoError naming the file

  Kind kind_ = Kind::standard_output;
  std::string field_;
  std::string path_;    // as given (messages name it)
  std::string target_;  // after symlinks
  std::string temp_;
  Temporary temp_registration_;
  std::FILE* file_ = nullptr;
  bool done_ = false;
};

// Writes `text` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// A report directory built under a temporary name beside the target (.NAME.tmp.PID) and swapped
// into place by commit(); without commit the temporary is removed, and so is every parent
// directory the constructor created. An existing target is replaced only when it is empty or is
// a report of the same kind (it holds `marker`, e.g. report.json): any other directory, or a
// file, is refused before any work. A symlink is followed. `field` names the option in errors.
class AtomicDir {
 public:
  AtomicDir(const std::filesystem::path& target, std::string_view marker, std::string_view field);
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;
  ~AtomicDir();
  const std::filesystem::path& temp() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  void remove_created_parents();

  std::filesystem::path target_;
  std::filesystem::path temp_;
  Temporary temp_registration_;
  std::vector<std::filesystem::path> created_parents_;  // outermost first
  std::vector<Temporary> created_registrations_;
  bool committed_ = false;
};

}  // namespace attnroof::report
