// defines: EmbeddedFile, embedded_hardware_files, embedded_preset_files,
//          embedded_calibration_files (data compiled in by
// cmake/EmbedFiles.cmake from model/data/)
#pragma once
#include <span>
#include <string_view>

namespace attnroof {

struct EmbeddedFile {
  std::string_view name;      // base name, e.g. "h100_sxm.json"
  std::string_view contents;
};

std::span<const EmbeddedFile> embedded_hardware_files();
std::span<const EmbeddedFile> embedded_preset_files();
std::span<const EmbeddedFile> embedded_calibration_files();

}  // namespace attnroof
