#include "model/cost.h"

#include <stdexcept>

namespace attnroof::model {

std::string_view to_string(Stage s) {
  switch (s) {
    case Stage::projection: return "projection";
    case Stage::attention: return "attention";
    case Stage::output: return "output";
  }
  return "?";
}

std::string_view to_string(CollectiveKind k) {
  switch (k) {
    case CollectiveKind::all_reduce: return "all_reduce";
    case CollectiveKind::reduce_scatter: return "reduce_scatter";
    case CollectiveKind::all_gather: return "all_gather";
    case CollectiveKind::all_to_all: return "all_to_all";
  }
  return "?";
}

void Cost::add(const Op& op) {
  if (n_ops >= kMaxOps) throw std::logic_error("Cost: more than kMaxOps operations");
  ops[std::size_t(n_ops++)] = op;
}

void Cost::add(const Collective& collective) {
  if (n_collectives >= kMaxCollectives) {
    throw std::logic_error("Cost: more than kMaxCollectives collectives");
  }
  collectives[std::size_t(n_collectives++)] = collective;
}

double Cost::flops() const {
  double f = 0;
  for (int i = 0; i < n_ops; ++i) f += ops[std::size_t(i)].flops;
  return f;
}

double Cost::flops(Stage s) const {
  double f = 0;
  for (int i = 0; i < n_ops; ++i) {
    if (ops[std::size_t(i)].stage == s) f += ops[std::size_t(i)].flops;
  }
  return f;
}

double Cost::bytes() const {
  double b = 0;
  for (int i = 0; i < n_ops; ++i) b += ops[std::size_t(i)].bytes();
  return b;
}

double Cost::bytes(Stage s) const {
  double b = 0;
  for (int i = 0; i < n_ops; ++i) {
    if (ops[std::size_t(i)].stage == s) b += ops[std::size_t(i)].bytes();
  }
  return b;
}

double Cost::kv_read_bytes() const {
  double b = 0;
  for (int i = 0; i < n_ops; ++i) b += ops[std::size_t(i)].kv_read_bytes;
  return b;
}

double Cost::flops_of(std::string_view op_name) const {
  double f = 0;
  for (int i = 0; i < n_ops; ++i) {
    if (ops[std::size_t(i)].name == op_name) f += ops[std::size_t(i)].flops;
  }
  return f;
}

}  // namespace attnroof::model
