#include "studies/report/output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "model/error.h"

namespace attnroof::report {

namespace fs = std::filesystem;

namespace {

// The kernel's own limit on a chain of symlinks (Linux: 40); past it the chain is a loop.
constexpr int kMaxSymlinkHops = 40;

struct LinkEnd {
  fs::path target;
  // The chain passed through /proc (/dev/stdout -> /proc/self/fd/1 -> ...): the kernel's links
  // to open files, which are opened, never replaced (their text may not even be a path).
  bool through_proc = false;
};

// Where a chain of symlinks ends. The end need not exist: -o onto a dangling link creates the
// file it points to.
LinkEnd follow_symlinks(const fs::path& path, std::string_view field) {
  LinkEnd end{path};
  for (int hop = 0; hop < kMaxSymlinkHops; ++hop) {
    struct stat st {};
    if (::lstat(end.target.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return end;
    end.through_proc = end.through_proc || end.target.string().rfind("/proc/", 0) == 0;
    std::error_code ec;
    const fs::path next = fs::read_symlink(end.target, ec);
    if (ec) return end;
    end.target = next.is_absolute() ? next : end.target.parent_path() / next;
  }
  throw InputError(fmt::format("{}: cannot write '{}': more than {} symbolic links in a row", field,
                               path.string(), kMaxSymlinkHops));
}

fs::path parent_of(const fs::path& p) { return p.parent_path().empty() ? fs::path(".") : p.parent_path(); }

void check_parent(const fs::path& target, const std::string& given, std::string_view field) {
  const fs::path parent = parent_of(target);
  std::error_code ec;
  if (!fs::exists(parent, ec)) {
    throw InputError(fmt::format("{}: cannot write '{}': directory '{}' does not exist", field, given,
                                 parent.string()));
  }
  if (!fs::is_directory(parent, ec)) {
    throw InputError(fmt::format("{}: cannot write '{}': '{}' is not a directory", field, given,
                                 parent.string()));
  }
}

}  // namespace

Output::Output(const std::string& path, std::string_view field) : field_(field) {
  if (path.empty() || path == "-") {
    file_ = stdout;
    return;
  }
  path_ = path;
  const LinkEnd end = follow_symlinks(path, field);
  target_ = end.target.string();
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;  // through every link, the kernel's too
  if (!exists && errno != ENOENT) {
    throw InputError(fmt::format("{}: cannot write '{}': {}", field, path, std::strerror(errno)));
  }
  if (exists && S_ISDIR(st.st_mode)) {
    throw InputError(fmt::format("{}: '{}' is a directory: give a file name (or - for stdout)", field, path));
  }
  int fd = -1;
  if (exists && (!S_ISREG(st.st_mode) || end.through_proc)) {
    // A device, fifo or socket (renaming onto it would replace it with a regular file), or an
    // open file reached through /proc: appended to, as the shell's >> would.
    kind_ = Kind::stream;
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw InputError(fmt::format("{}: cannot write '{}': {}", field, path, std::strerror(errno)));
  } else {
    kind_ = Kind::atomic_file;
    if (!exists) check_parent(target_, path, field);
    temp_ = fmt::format("{}.tmp.{}", target_, ::getpid());
    temp_registration_ = Temporary(temp_, TempKind::file);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    fd = ::open(temp_.c_str(), flags, 0666);
    if (fd < 0 && errno == EEXIST) {  // left by an earlier process that had our PID
      ::unlink(temp_.c_str());
      fd = ::open(temp_.c_str(), flags, 0666);
    }
    if (fd < 0) {
      throw InputError(fmt::format("{}: cannot write '{}': creating '{}' beside it: {}", field, path, temp_,
                                   std::strerror(errno)));
    }
    if (exists) {
      // The rewritten file is a new inode: give it the old one's owner (only root may) and mode.
      if ((st.st_uid != ::geteuid() || st.st_gid != ::getegid()) && ::fchown(fd, st.st_uid, st.st_gid) != 0) {
        // Not permitted: like any program rewriting a file, it becomes ours.
      }
      if (::fchmod(fd, st.st_mode & 07777) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(temp_.c_str());
        throw IoError(fmt::format("{}: cannot keep the mode of '{}': {}", field, path, std::strerror(err)));
      }
    }
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    const int err = errno;
    ::close(fd);
    if (kind_ == Kind::atomic_file) ::unlink(temp_.c_str());
    throw IoError(fmt::format("{}: cannot write '{}': {}", field, path, std::strerror(err)));
  }
}

Output::~Output() {
  if (kind_ == Kind::standard_output) return;
  if (file_ != nullptr) std::fclose(file_);
  if (kind_ == Kind::atomic_file && !done_) ::unlink(temp_.c_str());
}

void Output::fail(int error) {
  if (kind_ == Kind::standard_output) {
    throw IoError(fmt::format("writing standard output: {}", std::strerror(error)));
  }
  throw IoError(fmt::format("{}: writing '{}': {}", field_, path_, std::strerror(error)));
}

void Output::write(std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) fail(errno);
}

void Output::commit() {
  if (kind_ == Kind::standard_output) {
    if (std::fflush(stdout) != 0) fail(errno);
    return;
  }
  int error = 0;
  if (std::fflush(file_) != 0 || std::ferror(file_) != 0) error = errno != 0 ? errno : EIO;
  if (std::fclose(file_) != 0 && error == 0) error = errno;
  file_ = nullptr;
  if (error != 0) fail(error);
  if (kind_ == Kind::atomic_file) {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
      throw IoError(fmt::format("{}: cannot rename '{}' onto '{}': {}", field_, temp_, target_,
                                std::strerror(errno)));
    }
    temp_registration_.release();
  }
  done_ = true;
}

void write_file_atomic(const fs::path& path, std::string_view text) {
  Output out(path.string(), "report");
  out.write(text);
  out.commit();
}

AtomicDir::AtomicDir(const fs::path& target, std::string_view marker, std::string_view field) {
  target_ = follow_symlinks(target.has_filename() ? target : target.parent_path(), field).target;
  const std::string name = target_.filename().string();
  if (name.empty() || name == "." || name == "..") {
    throw InputError(fmt::format("{}: '{}' does not name a directory that can be replaced", field,
                                 target.string()));
  }
  std::error_code ec;
  if (fs::exists(target_, ec)) {
    if (!fs::is_directory(target_, ec)) {
      throw InputError(fmt::format("{}: '{}' exists and is not a directory; it is left alone", field,
                                   target_.string()));
    }
    if (!fs::is_empty(target_, ec) && !fs::exists(target_ / marker, ec)) {
      throw InputError(fmt::format("{}: '{}' exists and is not an attnroof report (it has no {}); it is "
                                   "left alone: remove it or choose another {}",
                                   field, target_.string(), marker, field));
    }
  }
  const fs::path parent = parent_of(target_);
  std::vector<fs::path> missing;  // innermost first
  for (fs::path p = parent; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  try {
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      created_registrations_.emplace_back(*it, TempKind::empty_dir);
      const bool created = fs::create_directory(*it, ec);
      if (ec) throw InputError(fmt::format("{}: cannot create '{}': {}", field, it->string(), ec.message()));
      if (created) created_parents_.push_back(*it);  // else another process made it meanwhile
    }
    if (!fs::is_directory(parent, ec)) {
      throw InputError(fmt::format("{}: '{}' is not a directory", field, parent.string()));
    }
    temp_ = parent / fmt::format(".{}.tmp.{}", name, ::getpid());
    temp_registration_ = Temporary(temp_, TempKind::tree);
    fs::remove_all(temp_, ec);  // left by an earlier process that had our PID
    fs::create_directory(temp_, ec);
    if (ec) throw InputError(fmt::format("{}: cannot create '{}': {}", field, temp_.string(), ec.message()));
  } catch (...) {
    remove_created_parents();
    throw;
  }
}

void AtomicDir::remove_created_parents() {
  std::error_code ec;
  for (auto it = created_parents_.rbegin(); it != created_parents_.rend(); ++it) fs::remove(*it, ec);
  created_parents_.clear();
  created_registrations_.clear();
}

AtomicDir::~AtomicDir() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temp_, ec);
  temp_registration_.release();
  remove_created_parents();
}

void AtomicDir::commit() {
  // rename() cannot replace a non-empty directory: the previous report moves aside first. No
  // signal may land between the two renames (its handler would remove the new report while the
  // old one is aside): they are held back until both are done.
  std::error_code ec;
  const fs::path old = parent_of(target_) / fmt::format(".{}.old.{}", target_.filename().string(), ::getpid());
  Temporary old_registration;
  bool had_old = false;
  {
    InterruptsDeferred deferred;
    fs::remove_all(old, ec);
    had_old = fs::exists(target_, ec);
    if (had_old) {
      fs::rename(target_, old, ec);
      if (ec) {
        throw IoError(fmt::format("cannot move the previous report '{}' aside: {}", target_.string(),
                                  ec.message()));
      }
    }
    fs::rename(temp_, target_, ec);
    if (ec) {
      std::error_code restore;
      if (had_old) fs::rename(old, target_, restore);
      throw IoError(fmt::format("cannot rename '{}' to '{}': {}", temp_.string(), target_.string(), ec.message()));
    }
    committed_ = true;
    temp_registration_.release();
    created_registrations_.clear();  // they hold the report now
    if (had_old) old_registration = Temporary(old, TempKind::tree);
  }
  if (had_old) fs::remove_all(old, ec);
}

}  // namespace attnroof::report
