/* The phases of a load reported to wudf_load_options.progress, and its
 * cancel flag checked between them. */
#ifndef WUDF_API_LOAD_STEPS_H
#define WUDF_API_LOAD_STEPS_H

#include "translate/toolchain.h"
#include "wudf.h"

/* Reports `phase` (seconds since `started`, from wudf_clock_seconds()) to
 * options->progress, then returns WUDF_ERR_CANCELLED if options->cancel is
 * set, else WUDF_OK. `options` may be NULL. */
wudf_status wudf_load_step(const wudf_load_options *options, double started,
                           wudf_phase phase, wudf_error *err);

/* Hands the load's cancel flag and progress callback to a build, so that
 * it reports translate and cc and can be stopped while they run. */
void wudf_load_hooks(const wudf_load_options *options, double started,
                     wudf_build_input *in);

#endif
