// defines: KvQuery, KvResult, run_kv_query, PointQuery, sweep_axes, ExplainResult, explain_point,
// explain_inputs_json, StagePosition, stage_positions, explain_json (the computations of
// `attnroof kv`, `sweep` and `explain` without their argument parsing and output: the commands
// (commands/) and the Python module (python/) both call these, so both take the same values and
// fail with the same messages)
//
// Every field holds the text the command line's option takes ("1,2,4,8", "4k:2m:x2", "bf16"),
// and the errors name the command line's options ("--tp: ...").
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "studies/bound_change.h"
#include "studies/evaluate.h"
#include "studies/kv_table.h"
#include "studies/options.h"

namespace attnroof::cli {

// attnroof kv: --preset, or --variant with --config, or (neither) the paper29b_* presets and
// llama3_70b; --tp; --kv-dtype (one).
struct KvQuery {
  std::string presets;
  std::string variant;
  std::string config;
  std::string tp = "1,2,4,8";
  std::string kv_dtype = "bf16";
};
// The rows point into `models`: move a result, do not copy it.
struct KvResult {
  std::vector<ModelEntry> models;
  std::vector<int64_t> tps;
  model::Dtype kv_dtype = model::Dtype::bf16;
  std::vector<KvRow> rows;
  std::vector<nlohmann::json> skipped;  // (model, tp) pairs that do not shard, with the reasons
};
KvResult run_kv_query(const KvQuery& q);

// The decode point options of explain (one value each) and sweep (axes).
struct PointQuery {
  ModelOptions model;
  std::string hardware = "h100_sxm";
  std::string calibration;  // --calibration ("" keeps the shipped profiles)
  std::string tp = "1";
  std::string ep = "1";            // expert-parallel groups of the routed experts
  std::string dp_attention = "1";  // attention groups of tp devices, each its own batch
  std::string batch = "1";
  std::string context = "8192";
  std::string contexts;  // a ragged batch: replaces batch and context
  std::string q_tokens = "1";
  std::string form = "absorbed";
  std::string kv_dtype = "bf16";
  std::string weight_dtype;  // "" or "native": each model's native format
  std::string act_dtype = "bf16";
  bool batch_given = false;    // --batch given (an error with --contexts)
  bool context_given = false;  // --context given (an error with --contexts)
};

// The options that set a PointQuery, registered once for explain (axes false: one point) and
// sweep (axes true: each a comma list or range), with the help each reading needs.
void add_point_options(CLI::App& app, PointQuery& q, bool axes);

// attnroof sweep's axes.
Axes sweep_axes(const PointQuery& q);

// attnroof explain's point, evaluated. `row` points into `models` and the hardware registry (or
// `hardware` for a file): move a result, do not copy it.
struct ExplainResult {
  std::vector<ModelEntry> models;  // the one model
  std::vector<const model::Hardware*> hardware;  // the one profile
  std::vector<int64_t> ragged;     // --contexts, when given
  std::unique_ptr<Row> row;
};
ExplainResult explain_point(const PointQuery& q);

// The "inputs" object of explain's JSON report.
nlohmann::json explain_inputs_json(const ExplainResult& r);

// One stage's place on the roofline and the nearest q_tokens and context that change its bound.
// Both labels: the model's (what t uses) and the plain roofline's (the effective ridge), which
// differ where a calibrated time model prices the stage.
struct StagePosition {
  model::Stage stage{};
  std::optional<BoundChange> by_q_tokens, by_context;                    // the model's label
  std::optional<BoundChange> roofline_by_q_tokens, roofline_by_context;  // the plain roofline's
};
std::vector<StagePosition> stage_positions(const Row& r);

// Everything explain reports about a point: ops, roofline positions, stages, collectives,
// totals and capacity (reports/SCHEMA.md, "explain").
nlohmann::json explain_json(const Row& r);

}  // namespace attnroof::cli
