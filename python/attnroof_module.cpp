// The Python module `attnroof` (pybind11): kv, explain and sweep computed by the same C++ as
// `attnroof kv`, `explain` and `sweep` (studies/queries.h), returned as plain Python objects:
//   kv, sweep  -> a dict of columns (column name -> list), which pandas.DataFrame takes as is;
//                 the columns are the CLI's CSV columns (reports/SCHEMA.md)
//   explain    -> the dict of `explain --format json` without its provenance
// Arguments take what the CLI's options take: a str in the option's syntax ("1:8:x2", "4k",
// "bf16,fp8"), an int, or a list of them (joined with ','); presets and hardware are builtin
// names or files, as in the CLI. Bad input raises ValueError with the message the CLI prints
// after "error: COMMAND: ".
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "model/error.h"
#include "model/hardware.h"
#include "model/presets.h"
#include "studies/cli.h"
#include "studies/evaluate.h"
#include "studies/kv_table.h"
#include "studies/limits.h"
#include "studies/queries.h"
#include "studies/report/columns.h"
#include "studies/report/output.h"
#include "studies/report/sweep_columns.h"

namespace py = pybind11;

namespace attnroof::python {

namespace {

// One option's value as the CLI's text: None -> `fallback`, a str as is, an int in decimal, a
// list or tuple of those joined with ','.
std::string option_text(const py::handle& v, std::string_view field, const std::string& fallback = "") {
  if (v.is_none()) return fallback;
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::bool_>(v)) {
    throw InputError(fmt::format("{}: expected a str, an int or a list of them, got a bool", field));
  }
  if (py::isinstance<py::int_>(v)) return std::to_string(v.cast<int64_t>());
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    std::string out;
    for (const py::handle e : v) {
      if (!py::isinstance<py::str>(e) && (!py::isinstance<py::int_>(e) || py::isinstance<py::bool_>(e))) {
        throw InputError(fmt::format("{}: expected a list of str or int, got an element of type {}", field,
                                     py::str(py::type::of(e).attr("__name__")).cast<std::string>()));
      }
      out += (out.empty() ? "" : ",") + option_text(e, field);
    }
    return out;
  }
  throw InputError(fmt::format("{}: expected a str, an int or a list of them, got {}", field,
                               py::str(py::type::of(v).attr("__name__")).cast<std::string>()));
}

// --config: a dict is passed as inline JSON, a str as the CLI takes it (a file or inline JSON).
std::string config_text(const py::handle& v) {
  if (v.is_none()) return "";
  if (py::isinstance<py::dict>(v)) {
    return py::module_::import("json").attr("dumps")(v).cast<std::string>();
  }
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  throw InputError("--config: expected a dict, a JSON text or a file path");
}

py::object cell_object(const report::Cell& c) {
  switch (c.kind) {
    case report::Cell::Kind::text: return py::str(std::string(c.text));
    case report::Cell::Kind::integer: return py::int_(c.integer);
    case report::Cell::Kind::real: return py::float_(c.real);
    case report::Cell::Kind::boolean: return py::bool_(c.boolean);
  }
  return py::none();
}

py::object json_object(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(j.get<uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(j.get<double>());
    case nlohmann::json::value_t::string: return py::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const nlohmann::json& e : j) out.append(json_object(e));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, value] : j.items()) out[py::str(key)] = json_object(value);
      return out;
    }
    default: return py::none();  // binary and discarded values do not occur in reports
  }
}

// Column name -> empty list, in the table's order.
template <class R>
std::vector<py::list> empty_columns(std::span<const report::ColumnOf<R>> columns) {
  return std::vector<py::list>(columns.size());
}
template <class R>
void append_row(std::span<const report::ColumnOf<R>> columns, std::vector<py::list>& lists, const R& row) {
  for (std::size_t i = 0; i < columns.size(); ++i) lists[i].append(cell_object(columns[i].get(row)));
}
template <class R>
py::dict column_dict(std::span<const report::ColumnOf<R>> columns, const std::vector<py::list>& lists) {
  py::dict out;
  for (std::size_t i = 0; i < columns.size(); ++i) out[py::str(std::string(columns[i].name))] = lists[i];
  return out;
}

void warn(const std::string& message) { py::module_::import("warnings").attr("warn")(message); }

cli::ModelOptions model_options(const py::object& preset, const py::object& variant, const py::object& config,
                                const py::object& layers, const py::object& other_params) {
  cli::ModelOptions m;
  m.presets = option_text(preset, "--preset");
  m.variant = option_text(variant, "--variant");
  m.config = config_text(config);
  if (!layers.is_none()) {
    m.layers = layers.cast<int64_t>();
    m.layers_given = true;
    if (m.layers < 1) throw InputError(fmt::format("--layers: {} is invalid: must be >= 1", m.layers));
  }
  if (!other_params.is_none()) {
    m.other_params = other_params.cast<double>();
    m.other_params_given = true;
    if (!(m.other_params >= 0)) {
      throw InputError(fmt::format("--other-params: {} is invalid: must be >= 0", m.other_params));
    }
  }
  return m;
}

struct PointArgs {
  py::object preset, variant, config, layers, other_params, hardware, calibration, tp, ep, dp_attention, batch,
      context, contexts, q_tokens, form, kv_dtype, weight_dtype, act_dtype;
};

cli::PointQuery point_query(const PointArgs& a) {
  cli::PointQuery q;
  q.model = model_options(a.preset, a.variant, a.config, a.layers, a.other_params);
  q.hardware = option_text(a.hardware, "--hardware", q.hardware);
  q.calibration = option_text(a.calibration, "--calibration");
  q.tp = option_text(a.tp, "--tp", q.tp);
  q.ep = option_text(a.ep, "--ep", q.ep);
  q.dp_attention = option_text(a.dp_attention, "--dp-attention", q.dp_attention);
  q.batch_given = !a.batch.is_none();
  q.context_given = !a.context.is_none();
  q.batch = option_text(a.batch, "--batch", q.batch);
  q.context = option_text(a.context, "--context", q.context);
  q.contexts = option_text(a.contexts, "--contexts");
  q.q_tokens = option_text(a.q_tokens, "--q-tokens", q.q_tokens);
  q.form = option_text(a.form, "--form", q.form);
  q.kv_dtype = option_text(a.kv_dtype, "--kv-dtype", q.kv_dtype);
  q.weight_dtype = option_text(a.weight_dtype, "--weight-dtype", q.weight_dtype);
  q.act_dtype = option_text(a.act_dtype, "--act-dtype", q.act_dtype);
  return q;
}

py::dict kv(const py::object& preset, const py::object& variant, const py::object& config, const py::object& tp,
            const py::object& kv_dtype) {
  cli::KvQuery q;
  q.presets = option_text(preset, "--preset");
  q.variant = option_text(variant, "--variant");
  q.config = config_text(config);
  q.tp = option_text(tp, "--tp", q.tp);
  q.kv_dtype = option_text(kv_dtype, "--kv-dtype", q.kv_dtype);
  const cli::KvResult r = cli::run_kv_query(q);
  for (const nlohmann::json& s : r.skipped) {
    warn(fmt::format("kv: skipped {} at tp {}: {}", s["model"].get<std::string>(), s["tp"].get<int64_t>(),
                     s["reasons"][0].get<std::string>()));
  }
  const std::span<const report::ColumnOf<cli::KvRow>> columns = cli::kv_columns();
  std::vector<py::list> lists = empty_columns(columns);
  for (const cli::KvRow& row : r.rows) append_row(columns, lists, row);
  return column_dict(columns, lists);
}

py::object explain(const PointArgs& a) {
  const cli::ExplainResult r = cli::explain_point(point_query(a));
  nlohmann::json j = {{"inputs", cli::explain_inputs_json(r)}, {"hardware", r.hardware[0]->to_json()}};
  j.update(cli::explain_json(*r.row));
  return json_object(j);
}

py::dict sweep(const PointArgs& a) {
  const cli::Axes axes = cli::sweep_axes(point_query(a));
  const uint64_t total = axes.size();
  if (total > cli::kMaxReportPoints) {
    throw InputError(fmt::format("the sweep has {} points; attnroof.sweep returns at most {} (it holds every "
                                 "row): split it, or stream it with `attnroof sweep --format csv`",
                                 total, cli::kMaxReportPoints));
  }
  const std::span<const report::SweepColumn> columns = report::sweep_columns();
  std::vector<py::list> lists = empty_columns(columns);
  uint64_t skipped = 0;
  std::string first_skip;
  cli::for_each_point(
      axes, [&](const cli::Row& row) { append_row(columns, lists, row); },
      [&](cli::Skip&& s) {
        if (skipped++ == 0) {
          const nlohmann::json j = s.to_json();
          first_skip = fmt::format("{} on {} at tp {}, batch {}, ctx_len {}, q_tokens {}: {}",
                                   j["model"].get<std::string>(), j["hardware"].get<std::string>(),
                                   j["tp"].get<int64_t>(), j["batch"].get<int64_t>(), j["ctx_len"].get<int64_t>(),
                                   j["q_tokens"].get<int64_t>(), fmt::join(s.reasons, "; "));
        }
      });
  if (skipped > 0) warn(fmt::format("sweep: {} of {} points skipped; the first: {}", skipped, total, first_skip));
  return column_dict(columns, lists);
}

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  for (const model::Preset& p : model::builtin_presets()) out.push_back(p.name);
  return out;
}

std::vector<std::string> hardware_ids() {
  std::vector<std::string> out;
  for (const model::Hardware& h : model::builtin_hardware()) out.push_back(h.id);
  return out;
}

}  // namespace

}  // namespace attnroof::python

PYBIND11_MODULE(attnroof, m) {
  namespace ap = attnroof::python;
  m.doc() =
      "attnroof: the analytic roofline model of attention decode under tensor parallelism (the C++ "
      "of the attnroof command line). kv and sweep return a dict of columns (pandas.DataFrame takes it); "
      "explain returns the dict of `attnroof explain --format json`. Arguments take what the CLI's "
      "options take (a str such as \"1:8:x2\" or \"4k\", an int, or a list); bad input raises "
      "ValueError with the CLI's message.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const attnroof::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const attnroof::cli::CommandFailed& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const attnroof::report::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });
  const py::none none;
  m.def("kv", &ap::kv, py::kw_only(), py::arg("preset") = none, py::arg("variant") = none,
        py::arg("config") = none, py::arg("tp") = none, py::arg("kv_dtype") = none,
        "Per-device KV cache per token per layer (attnroof kv): one row per (model, tp); default "
        "models paper29b_* and llama3_70b, default tp \"1,2,4,8\".");
  const auto point_function = [&m, &none](const char* name, auto fn, const char* doc) {
    m.def(
        name,
        [fn](const py::object& preset, const py::object& variant, const py::object& config, const py::object& layers,
             const py::object& other_params, const py::object& hardware, const py::object& calibration,
             const py::object& tp, const py::object& ep, const py::object& dp_attention, const py::object& batch,
             const py::object& context, const py::object& contexts,
             const py::object& q_tokens, const py::object& form, const py::object& kv_dtype,
             const py::object& weight_dtype, const py::object& act_dtype) {
          return fn(ap::PointArgs{preset, variant, config, layers, other_params, hardware, calibration, tp, ep,
                                  dp_attention, batch, context, contexts, q_tokens, form, kv_dtype,
                                  weight_dtype, act_dtype});
        },
        py::kw_only(), py::arg("preset") = none, py::arg("variant") = none, py::arg("config") = none,
        py::arg("layers") = none, py::arg("other_params") = none, py::arg("hardware") = none,
        py::arg("calibration") = none, py::arg("tp") = none, py::arg("ep") = none,
        py::arg("dp_attention") = none, py::arg("batch") = none, py::arg("context") = none,
        py::arg("contexts") = none, py::arg("q_tokens") = none, py::arg("form") = none, py::arg("kv_dtype") = none,
        py::arg("weight_dtype") = none, py::arg("act_dtype") = none, doc);
  };
  point_function("explain", [](const ap::PointArgs& a) { return ap::explain(a); },
                 "One decode point (attnroof explain): ops, roofline, stages, collectives, totals and "
                 "capacity as a dict. Defaults as the CLI's: hardware h100_sxm, tp 1, batch 1, context 8192.");
  point_function("sweep", [](const ap::PointArgs& a) { return py::object(ap::sweep(a)); },
                 "The product of the axes (attnroof sweep) as a dict of columns, one row per evaluable point "
                 "(skipped points: a warning). At most 250,000 points.");
  m.def("presets", &ap::preset_names, "The builtin preset names (attnroof presets).");
  m.def("hardware", &ap::hardware_ids, "The builtin hardware ids (attnroof hardware).");
}
