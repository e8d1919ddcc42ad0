#include "model/attention_options.h"

namespace attnroof::model {

std::string_view to_string(Form f) { return f == Form::absorbed ? "absorbed" : "materialized"; }

std::string_view to_string(OutProj o) {
  return o == OutProj::replicated ? "replicated" : "sharded";
}

std::optional<OutProj> out_proj_from_string(std::string_view s) {
  for (const OutProj o : {OutProj::replicated, OutProj::sharded})
    if (s == to_string(o)) return o;
  return std::nullopt;
}

std::string_view to_string(LrkvRope r) {
  return r == LrkvRope::latent ? "latent" : "materialized";
}

}  // namespace attnroof::model
