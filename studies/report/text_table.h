// defines: TextTable (a small table of preformatted strings, printed aligned or as Markdown;
// for pivoted views such as KV x TP, whose long form goes through a column table)
#pragma once
#include <string>
#include <vector>

namespace attnroof::report {

struct TextTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  std::string aligned() const;   // first column left-aligned, the rest right-aligned
  std::string markdown() const;  // GitHub-flavoured Markdown
};

}  // namespace attnroof::report
