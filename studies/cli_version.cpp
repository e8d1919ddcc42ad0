#include "studies/cli_version.h"

namespace attnroof::cli {
std::string_view tool_version() { return "0.1.0"; }
}  // namespace attnroof::cli
