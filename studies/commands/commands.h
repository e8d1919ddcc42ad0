// defines: the setup function of each subcommand (one file each in studies/commands/)
#pragma once
#include "studies/cli.h"

namespace attnroof::cli {

Runner setup_variants(CLI::App& app, const Context& context);
Runner setup_presets(CLI::App& app, const Context& context);
Runner setup_import_hf(CLI::App& app, const Context& context);
Runner setup_hardware(CLI::App& app, const Context& context);
Runner setup_kv(CLI::App& app, const Context& context);
Runner setup_explain(CLI::App& app, const Context& context);
Runner setup_sweep(CLI::App& app, const Context& context);
Runner setup_plot(CLI::App& app, const Context& context);
Runner setup_study(CLI::App& app, const Context& context);
Runner setup_verify(CLI::App& app, const Context& context);
Runner setup_validate_kernels(CLI::App& app, const Context& context);
Runner setup_bench_kernels(CLI::App& app, const Context& context);
Runner setup_tp_step(CLI::App& app, const Context& context);
Runner setup_tp_collectives(CLI::App& app, const Context& context);
Runner setup_calibrate(CLI::App& app, const Context& context);
Runner setup_fidelity(CLI::App& app, const Context& context);

}  // namespace attnroof::cli
