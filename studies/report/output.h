// defines: Output (stdout, or a file written atomically: a temporary beside the target, renamed
// onto it by commit(); dropped without commit, e.g. on an error, it leaves nothing behind),
// AtomicDir (the same for a report directory)
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace attnroof::report {

class Output {
 public:
  // path "" or "-" = stdout. `field` names the option in errors ("-o").
  Output(const std::string& path, std::string_view field);
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output();

  std::FILE* file() const { return file_; }
  bool is_stdout() const { return path_.empty(); }
  const std::string& path() const { return path_; }
  void write(std::string_view s);
  // Flushes; for a file, closes and renames the temporary onto the target.
  void commit();

 private:
  std::string path_;
  std::string temp_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

// Writes `text` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view text);

// A report directory built under a temporary name beside the target and swapped into place by
// commit(); without commit the temporary is removed.
class AtomicDir {
 public:
  explicit AtomicDir(const std::filesystem::path& target);
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;
  ~AtomicDir();
  const std::filesystem::path& temp() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

}  // namespace attnroof::report
