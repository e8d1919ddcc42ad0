// defines: kSchemaVersion, provenance (what every report carries: tool version, git commit,
// build, UTC date, the exact command line)
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace attnroof::report {

// Bump on any change to a report's fields (reports/SCHEMA.md).
inline constexpr int kSchemaVersion = 1;

nlohmann::json provenance(const std::string& command_line);

// ISO 8601 UTC timestamp, "2026-11-24T13:05:00Z".
std::string utc_now();

}  // namespace attnroof::report
