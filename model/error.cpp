#include "model/error.h"

namespace attnroof {

std::string format_problems(const std::string& header, const std::vector<std::string>& problems) {
  std::string out = header;
  if (problems.size() == 1) return out + ": " + problems.front();
  out += ':';
  for (const std::string& p : problems) out += "\n  - " + p;
  return out;
}

void throw_if_problems(const std::string& header, const std::vector<std::string>& problems) {
  if (!problems.empty()) throw InputError(format_problems(header, problems));
}

}  // namespace attnroof
