// defines: kDataDirEnv, data_dir (where the installed data lies: the study definitions and the
// report files they read, laid out as in the source tree: studies/paper.json, reports/...)
#pragma once
#include <filesystem>
#include <string_view>

namespace attnroof::cli {

inline constexpr std::string_view kDataDirEnv = "ATTNROOF_DATA_DIR";

// The data directory, found at run time (nothing is baked into the binary), first of:
//   1. $ATTNROOF_DATA_DIR, when set (it must then be a directory: no silent fall-through);
//   2. the install prefix's share/attnroof, relative to the running executable
//      (PREFIX/bin/attnroof -> PREFIX/share/attnroof; cmake/Package.cmake installs it);
//   3. the source tree, for a binary in a build tree: the build writes the file
//      attnroof-source-dir (the source root) beside the executable; an install copies no such file.
// Throws CommandFailed (exit status 1: not the input's fault) naming every place it looked.
std::filesystem::path data_dir();

}  // namespace attnroof::cli
