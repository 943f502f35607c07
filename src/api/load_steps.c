/* Progress and cancellation of wudf_module_load_ex(). */
#include "api/load_steps.h"

#include "common/error.h"

void wudf_load_hooks(const wudf_load_options *options, double started,
                     wudf_build_input *in) {
  in->started = started;
  if (!options) return;
  in->cancel = options->cancel;
  in->progress = options->progress;
  in->progress_user = options->progress_user;
}

wudf_status wudf_load_step(const wudf_load_options *options, double started,
                           wudf_phase phase, wudf_error *err) {
  wudf_build_input in = {0};
  wudf_load_hooks(options, started, &in);
  return wudf_build_step(&in, phase, err);
}
