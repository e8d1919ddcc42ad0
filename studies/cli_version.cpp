#include "studies/cli_version.h"

#include <fmt/format.h>

#include "studies/build_info.h"

namespace attnroof::cli {

std::string_view tool_version() { return ATTNROOF_VERSION; }
std::string_view git_commit() { return ATTNROOF_GIT_COMMIT; }
bool git_dirty() { return ATTNROOF_GIT_DIRTY; }
std::string_view build_kind() { return ATTNROOF_BUILD_KIND; }

std::string version_text() {
  return fmt::format("attnroof {}\ncommit: {}{}\nbuild: {}\n", tool_version(), git_commit(),
                     git_dirty() ? " (with uncommitted changes at build time)" : "",
                     build_kind());
}

}  // namespace attnroof::cli
