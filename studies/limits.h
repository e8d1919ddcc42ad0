// defines: the command line's size limits (README "Limits" and the commands' --help cite them)
//
// A limit turns an input that would exhaust memory or time into an input error naming the
// limit. Streams (sweep rows) need none; what is held in memory does. The limits of the files
// read (size, JSON depth) live with the reader, in model/json_reader.h.
#pragma once
#include <cstddef>
#include <cstdint>

namespace attnroof::cli {

// Most values one axis may expand to (a larger range is an input error, not an allocation).
inline constexpr std::size_t kMaxAxisValues = 10'000'000;

// Most points a report holds in memory at once: the rows of a kv table, of a study's sweep
// section. About 3 KB each, so the cap is about 1 GB; `attnroof sweep` streams any number.
inline constexpr uint64_t kMaxReportPoints = 250'000;

// A sweep with more points than this says how many before it starts, and how long the rest will
// take once the rate is measured.
inline constexpr uint64_t kAnnouncedSweepPoints = 1'000'000;

}  // namespace attnroof::cli
