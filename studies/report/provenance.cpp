#include "studies/report/provenance.h"

#include <ctime>

#include "studies/cli_version.h"

namespace attnroof::report {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json provenance(const std::string& command_line) {
  return {{"tool", "attnroof"},
          {"version", std::string(cli::tool_version())},
          {"git_commit", std::string(cli::git_commit())},
          {"git_dirty", cli::git_dirty()},
          {"build", std::string(cli::build_kind())},
          {"date_utc", utc_now()},
          {"command_line", command_line}};
}

}  // namespace attnroof::report
