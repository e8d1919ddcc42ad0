// attnroof: the command line. Everything lives in attnroof_cli_lib (studies/cli.cpp) so that
// tests link the same code.
#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "studies/cli.h"
#include "studies/report/temporaries.h"

int main(int argc, char** argv) {
  attnroof::report::install_interrupt_cleanup();
  const int status = attnroof::cli::run_cli(argc, argv);
  // run_cli flushed stdout; closing it can still fail (e.g. a deferred error on a network file
  // system), and then the output is not known to be complete.
  if (std::fclose(stdout) != 0 && status == 0) {
    fmt::print(stderr, "error: closing standard output: {}\n", std::strerror(errno));
    return 1;
  }
  return status;
}
