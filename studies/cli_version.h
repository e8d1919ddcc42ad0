// defines: tool_version, git_commit, git_dirty, build_kind, version_text (what this binary is,
// baked in at build time; reports carry it as provenance)
#pragma once
#include <string>
#include <string_view>

namespace attnroof::cli {

std::string_view tool_version();  // "0.1.0" (CMake project version)
std::string_view git_commit();    // full hash of HEAD at build time, or "unknown"
bool git_dirty();                 // tracked files differed from HEAD at build time
std::string_view build_kind();    // "cpu" or "cuda sm_90"
// The `--version` text: "attnroof 0.1.0\ncommit: ...\nbuild: cpu\n".
std::string version_text();

}  // namespace attnroof::cli
