#include "studies/report/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "model/error.h"

namespace attnroof::report {

namespace fs = std::filesystem;

namespace {

void check_parent(const fs::path& target, std::string_view field) {
  const fs::path parent = target.parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw InputError(fmt::format("{}: cannot write '{}': directory '{}' does not exist", field,
                                 target.string(), parent.string()));
  }
}

}  // namespace

Output::Output(const std::string& path, std::string_view field) {
  if (path.empty() || path == "-") {
    file_ = stdout;
    return;
  }
  check_parent(path, field);
  path_ = path;
  temp_ = fmt::format("{}.tmp.{}", path, ::getpid());
  file_ = std::fopen(temp_.c_str(), "wb");
  if (file_ == nullptr) {
    throw InputError(fmt::format("{}: cannot write '{}': {}", field, path, std::strerror(errno)));
  }
}

Output::~Output() {
  if (!path_.empty() && !committed_) {
    if (file_ != nullptr) std::fclose(file_);
    std::remove(temp_.c_str());
  }
}

void Output::write(std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) {
    throw std::runtime_error(fmt::format("write failed: {}", std::strerror(errno)));
  }
}

void Output::commit() {
  if (path_.empty()) {
    std::fflush(file_);
    return;
  }
  const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) {
    std::remove(temp_.c_str());
    committed_ = true;
    throw std::runtime_error(fmt::format("writing {} failed", temp_));
  }
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) {
    std::remove(temp_.c_str());
    committed_ = true;
    throw std::runtime_error(fmt::format("renaming {} to {} failed: {}", temp_, path_, ec.message()));
  }
  committed_ = true;
}

void write_file_atomic(const fs::path& path, std::string_view text) {
  Output out(path.string(), "report");
  out.write(text);
  out.commit();
}

AtomicDir::AtomicDir(const fs::path& target) : target_(target) {
  const fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) {
    throw InputError(fmt::format("cannot create '{}': {}", parent.string(), ec.message()));
  }
  temp_ = parent / fmt::format(".{}.tmp.{}", target.filename().string(), ::getpid());
  fs::remove_all(temp_, ec);
  fs::create_directory(temp_, ec);
  if (ec) {
    throw InputError(fmt::format("cannot create '{}': {}", temp_.string(), ec.message()));
  }
}

AtomicDir::~AtomicDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
}

void AtomicDir::commit() {
  // rename() cannot replace a non-empty directory: move the old report aside first, then drop it.
  std::error_code ec;
  const fs::path old = temp_.parent_path() /
                       fmt::format(".{}.old.{}", target_.filename().string(), ::getpid());
  const bool had_old = fs::exists(target_, ec);
  if (had_old) {
    fs::rename(target_, old, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot move {} aside: {}", target_.string(), ec.message()));
  }
  fs::rename(temp_, target_, ec);
  if (ec) {
    if (had_old) fs::rename(old, target_, ec);
    throw std::runtime_error(fmt::format("cannot rename {} to {}", temp_.string(), target_.string()));
  }
  committed_ = true;
  if (had_old) fs::remove_all(old, ec);
}

}  // namespace attnroof::report
