#pragma once
#include <string_view>
namespace attnroof::cli {
std::string_view tool_version();
}  // namespace attnroof::cli
