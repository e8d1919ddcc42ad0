#include "model/attention_options.h"

namespace attnroof::model {

std::string_view to_string(Form f) { return f == Form::absorbed ? "absorbed" : "materialized"; }

std::string_view to_string(OutProj o) {
  return o == OutProj::replicated ? "replicated" : "sharded";
}

std::string_view to_string(LrkvRope r) {
  return r == LrkvRope::latent ? "latent" : "materialized";
}

}  // namespace attnroof::model
