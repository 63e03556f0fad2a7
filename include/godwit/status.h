/*
 * The status of every migration as the state store records it, as JSON:
 * what `godwit status --json` prints and what `godwit serve` answers.
 */
#ifndef GODWIT_STATUS_H
#define GODWIT_STATUS_H

#include <jansson.h>

#include "godwit/graph.h"
#include "godwit/state.h"

/*
 * An array with, for each migration of g in graph order: id, message,
 * applied, and per phase its state, progress (rows, percent, rate, ETA,
 * chunk), what it waits for, the limits in force and those an operator
 * set, lag, blocked time, control and error. Owned by the caller.
 */
json_t *gw_status_json(const struct gw_graph *g, const struct gw_applied_set *a);

#endif
