/* Cancellation flags (include/wudf.h) and what they stop. */
#ifndef WUDF_COMMON_CANCEL_H
#define WUDF_COMMON_CANCEL_H

#include "wudf.h"

#define WUDF_CANCEL_SLOTS 256

/* Registers `instance` so that wudf_cancel_trigger() interrupts its running
 * call. Returns the slot, or -1 when every slot is taken (the instance
 * then stops at its next check of the flag). */
int wudf_cancel_attach(wudf_cancel *cancel, wudf_instance *instance);
/* Unregisters the slot; waits for a trigger running on another thread to
 * finish with it, so the instance may be freed afterwards. */
void wudf_cancel_detach(wudf_cancel *cancel, int slot);

#endif
