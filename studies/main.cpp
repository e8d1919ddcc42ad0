// attnroof: the command line. Everything lives in attnroof_cli_lib (studies/cli.cpp) so that
// tests link the same code.
#include "studies/cli.h"

int main(int argc, char** argv) { return attnroof::cli::run_cli(argc, argv); }
