// defines: attnroof::test::Scratch (a private temporary directory for the files and fifos a test
// makes, removed with everything in it), endless_fifo (a fifo fed zeros, as /dev/zero would be)
#pragma once
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace attnroof::test {

class Scratch {
 public:
  Scratch() {
    std::string templ = (std::filesystem::temp_directory_path() / "attnroof_test_XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  // Writes `text` to the file `name` in the directory; returns its path.
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = path(name);
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Makes a fifo at `path` and a thread that feeds it zeros until `bytes` are written or the reader
// closes its end; join the thread once the reader is done.
inline std::thread endless_fifo(const std::string& path, std::size_t bytes) {
  if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed: " + path);
  return std::thread([path, bytes] {
    // The reader closes its end first: the write then fails with EPIPE, not a process signal.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return;
    const std::vector<char> zeros(1 << 16, 0);
    for (std::size_t written = 0; written < bytes;) {
      const ssize_t n = ::write(fd, zeros.data(), zeros.size());
      if (n <= 0) break;
      written += std::size_t(n);
    }
    ::close(fd);
  });
}

}  // namespace attnroof::test
