#include "studies/report/temporaries.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>

namespace attnroof::report {

namespace {

// A slot is claimed (compare-exchange), filled, then marked live; the handler only reads live
// slots. Lock-free atomics are what a signal handler may touch.
enum SlotState : int { kFree = 0, kClaimed = 1, kLive = 2 };
static_assert(std::atomic<int>::is_always_lock_free);

struct Slot {
  std::atomic<int> state{kFree};
  TempKind kind = TempKind::file;
  char path[PATH_MAX]{};
};

std::array<Slot, kMaxTemporaries> g_slots;

constexpr std::array kHandledSignals = {SIGINT, SIGTERM, SIGHUP};

// How deep the handler descends below a temporary directory (report directories are flat).
constexpr int kMaxTreeDepth = 8;

// The code from here to on_interrupt runs inside the signal handler, so it uses system calls
// only: no allocation, no stdio, no std::filesystem (none of which is async-signal-safe).
// Listing a directory with readdir() is not safe either (it allocates); getdents64 is the system
// call beneath it.
void remove_tree(int parent_fd, const char* name, int depth) {
  if (::unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT) return;
#ifdef SYS_getdents64
  if (depth < kMaxTreeDepth) {
    const int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      alignas(8) char buf[2048];
      // Entries are removed while the directory is listed: list it again until a pass is empty.
      bool removed_some = true;
      for (int pass = 0; removed_some && pass < 4; ++pass) {
        removed_some = false;
        ::lseek(fd, 0, SEEK_SET);
        for (long n; (n = ::syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;) {
          for (long off = 0; off < n;) {
            unsigned short reclen = 0;
            std::memcpy(&reclen, buf + off + offsetof(struct dirent64, d_reclen), sizeof reclen);
            const char* entry = buf + off + offsetof(struct dirent64, d_name);
            off += reclen;
            if (std::strcmp(entry, ".") == 0 || std::strcmp(entry, "..") == 0) continue;
            remove_tree(fd, entry, depth + 1);
            removed_some = true;
          }
        }
      }
      ::close(fd);
    }
  }
#else
  (void)depth;
#endif
  ::unlinkat(parent_fd, name, AT_REMOVEDIR);
}

bool live(const Slot& s, TempKind kind) { return s.state.load() == kLive && s.kind == kind; }

void remove_registered() {
  for (Slot& s : g_slots) {
    if (live(s, TempKind::file)) ::unlink(s.path);
  }
  for (Slot& s : g_slots) {
    if (live(s, TempKind::tree)) remove_tree(AT_FDCWD, s.path, 0);
  }
  // Created parents nest: repeat until no rmdir succeeds, so the deepest go first.
  for (bool removed = true; removed;) {
    removed = false;
    for (Slot& s : g_slots) {
      if (live(s, TempKind::empty_dir) && ::rmdir(s.path) == 0) {
        s.state.store(kFree);
        removed = true;
      }
    }
  }
}

void on_interrupt(int sig) {
  remove_registered();
  // The signal is blocked while its handler runs: raised now, it ends the process, with the
  // default action, as soon as the handler returns.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kHandledSignals) sigaddset(&set, sig);
  return set;
}

}  // namespace

Temporary::Temporary(const std::filesystem::path& path, TempKind kind) {
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(path, ec).string();
  if (ec || absolute.size() >= sizeof(Slot::path)) return;
  for (std::size_t i = 0; i < g_slots.size(); ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kClaimed)) continue;
    std::memcpy(g_slots[i].path, absolute.c_str(), absolute.size() + 1);
    g_slots[i].kind = kind;
    g_slots[i].state.store(kLive);
    slot_ = int(i);
    return;
  }
}

Temporary::Temporary(Temporary&& other) noexcept : slot_(other.slot_) { other.slot_ = -1; }

Temporary& Temporary::operator=(Temporary&& other) noexcept {
  if (this != &other) {
    release();
    slot_ = other.slot_;
    other.slot_ = -1;
  }
  return *this;
}

void Temporary::release() {
  if (slot_ >= 0) g_slots[std::size_t(slot_)].state.store(kFree);
  slot_ = -1;
}

InterruptsDeferred::InterruptsDeferred() {
  const sigset_t set = handled_set();
  ::pthread_sigmask(SIG_BLOCK, &set, &saved_);
}

InterruptsDeferred::~InterruptsDeferred() { ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

void install_interrupt_cleanup() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_mask = handled_set();  // one cleanup at a time
  for (int sig : kHandledSignals) {
    struct sigaction previous {};
    if (::sigaction(sig, nullptr, &previous) == 0 && previous.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &action, nullptr);
  }
  ::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace attnroof::report
