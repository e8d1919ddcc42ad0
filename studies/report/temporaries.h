// defines: TempKind, Temporary (a temporary file or directory that SIGINT, SIGTERM or SIGHUP
// remove before the process ends), InterruptsDeferred, install_interrupt_cleanup
//
// Output and AtomicDir write under temporary names and rename into place; an interrupted run
// would leave FILE.tmp.PID (a sweep: hundreds of MB) or .NAME.tmp.PID/ behind. They register
// their temporaries here; the signal handler removes what is registered, then ends the process
// with the signal's default action, so the exit status still says which signal it was.
#pragma once
#include <signal.h>

#include <cstddef>
#include <filesystem>

namespace attnroof::report {

// At most this many temporaries are registered at once (a study: its directory, the parents it
// created and one file being written); one past it is simply not cleaned on a signal.
inline constexpr std::size_t kMaxTemporaries = 32;

enum class TempKind {
  file,       // unlink
  tree,       // a directory and everything below it
  empty_dir,  // rmdir only: a parent directory created for a report, removed if still empty
};

// Registered for its lifetime (or until release()).
class Temporary {
 public:
  Temporary() = default;
  Temporary(const std::filesystem::path& path, TempKind kind);
  Temporary(Temporary&& other) noexcept;
  Temporary& operator=(Temporary&& other) noexcept;
  Temporary(const Temporary&) = delete;
  Temporary& operator=(const Temporary&) = delete;
  ~Temporary() { release(); }
  // The path is no longer a temporary (it was renamed into place, or removed).
  void release();

 private:
  int slot_ = -1;
};

// Holds SIGINT, SIGTERM and SIGHUP back for its lifetime, so that a sequence of renames (a
// report directory swapped into place) is not cut in the middle; one that arrived meanwhile is
// handled when it ends.
class InterruptsDeferred {
 public:
  InterruptsDeferred();
  ~InterruptsDeferred();
  InterruptsDeferred(const InterruptsDeferred&) = delete;
  InterruptsDeferred& operator=(const InterruptsDeferred&) = delete;

 private:
  sigset_t saved_{};
};

// Called once by main(): the handlers for SIGINT, SIGTERM and SIGHUP (a signal the process was
// started with ignored, e.g. under nohup, stays ignored), and SIGXFSZ ignored so that a write
// past the file-size limit (ulimit -f) fails with EFBIG and is reported as an I/O error naming
// the file instead of killing the process.
void install_interrupt_cleanup();

}  // namespace attnroof::report
