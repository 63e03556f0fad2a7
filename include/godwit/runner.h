/*
 * The runner: moves migrations forward phase by phase and back, recording
 * every transition in the state store. Needs a context with files loaded,
 * a connection and the runner lock.
 */
#ifndef GODWIT_RUNNER_H
#define GODWIT_RUNNER_H

#include "godwit/cli.h"
#include "godwit/graph.h"
#include "godwit/phase.h"

/*
 * Run the phases first..last of every migration on the way to t, in graph
 * order. A migration starts only when its parents are complete; the run
 * stops (successfully) at the first one that must wait, and says so.
 */
GW_MUSTCHECK int gw_run_forward(struct gw_ctx *ctx, const struct gw_target *t,
				enum gw_phase first, enum gw_phase last);
/* Roll back whole migrations down to t (and t's phases after t->phase). */
GW_MUSTCHECK int gw_run_down(struct gw_ctx *ctx, const struct gw_target *t);
/* Roll back one phase of rev, or (phase < 0) all of its phases, latest first. */
GW_MUSTCHECK int gw_run_rollback(struct gw_ctx *ctx, size_t rev, int phase);
/* Record exactly rev and its ancestors as applied (base: none), running nothing. */
GW_MUSTCHECK int gw_run_stamp(struct gw_ctx *ctx, const struct gw_target *t);

/*
 * Drop what the shadow rebuilds of rev keep for revert after cut-over (old
 * table, reverse sync); its contract can no longer be rolled back.
 */
GW_MUSTCHECK int gw_run_cleanup(struct gw_ctx *ctx, size_t rev);
/*
 * Compare each shadow rebuild of rev with its table by checksum, chunk by
 * chunk, copying again what differs (into the shadow before cut-over, into
 * the old table after); fails if a chunk still differs.
 */
GW_MUSTCHECK int gw_run_verify(struct gw_ctx *ctx, size_t rev);

/* Steps as JSON text ([{"sql":..., "flags":n}, ...]) and back. */
char *gw_steps_to_json(const struct gw_steps *s);
GW_MUSTCHECK int gw_steps_from_json(const char *text, struct gw_steps *s, struct gw_error *err);

#endif
