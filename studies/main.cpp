#include <fmt/format.h>

#include "studies/cli_version.h"

int main() {
  fmt::print("attnroof {}\n", attnroof::cli::tool_version());
  return 0;
}
