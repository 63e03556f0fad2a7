/*
 * Status as JSON, from the state store's rows: the runner records its
 * progress (rate, chunk, what it waits for, the limits in force, lag) in
 * each phase's progress text, and operators their control and limits.
 */
#include "godwit/status.h"

/* Progress of phase p of r as JSON (owned), from its row and progress text. */
static json_t *phase_json(const struct gw_applied *r, int p)
{
	json_t *ph = json_pack("{s:s}", "state",
			       gw_state_name(r ? (int)r->state[p] : GW_STATE_PENDING));
	json_t *pr;
	double rate;

	if (!r)
		return ph;
	if (r->rows_done[p] > 0 || r->rows_total[p] > 0) {
		json_object_set_new(ph, "rows_done", json_integer(r->rows_done[p]));
		if (r->rows_total[p] >= 0)
			json_object_set_new(ph, "rows_total", json_integer(r->rows_total[p]));
		if (r->rows_total[p] > 0)
			json_object_set_new(ph, "percent",
					    json_real(100.0 * (double)(r->rows_done[p] < r->rows_total[p]
									   ? r->rows_done[p]
									   : r->rows_total[p]) /
						      (double)r->rows_total[p]));
	}
	pr = r->progress[p] ? json_loads(r->progress[p], 0, NULL) : NULL;
	if (json_is_object(pr)) {
		json_object_update(ph, pr);
		rate = json_number_value(json_object_get(pr, "rate"));
		if (r->state[p] == GW_STATE_RUNNING && rate > 0 && r->rows_total[p] > r->rows_done[p])
			json_object_set_new(ph, "eta_s",
					    json_integer((json_int_t)((double)(r->rows_total[p] -
									       r->rows_done[p]) /
								      rate)));
	}
	json_decref(pr);
	if (r->state[p] != GW_STATE_PAUSED && r->state[p] != GW_STATE_RUNNING)
		json_object_del(ph, "waiting");
	if (r->desired[p])
		json_object_set_new(ph, "control", json_string(r->desired[p]));
	if (r->error[p])
		json_object_set_new(ph, "error", json_string(r->error[p]));
	if (r->updated_at[p])
		json_object_set_new(ph, "updated_at", json_string(r->updated_at[p]));
	return ph;
}


static json_t *limits_json(const struct gw_limits *l)
{
	const char *names[] = {"rate", "chunk_time_ms", "max_lag_ms", "max_load"};
	const long long v[] = {l->rate, l->chunk_time_ms, l->max_lag_ms, l->max_load};
	json_t *o = json_object();

	for (int k = 0; k < 4; k++)
		if (v[k] != GW_LIMIT_UNSET)
			json_object_set_new(o, names[k], json_integer(v[k]));
	if (json_object_size(o))
		return o;
	json_decref(o);
	return NULL;
}

json_t *gw_status_json(const struct gw_graph *g, const struct gw_applied_set *a)
{
	json_t *out = json_array();

	for (size_t i = 0; i < g->n; i++) {
		const struct gw_migration *m = g->node[i];
		const struct gw_applied *r = gw_applied_find(a, m->id);
		json_t *o = json_pack("{s:s, s:s?}", "id", m->id, "message", m->message);
		json_t *phases = json_object();

		for (int p = 0; p < GW_NPHASES; p++) {
			json_t *ph = phase_json(r, p), *lim = r ? limits_json(&r->limits[p]) : NULL;

			if (lim)
				json_object_set_new(ph, "operator_limits", lim);
			json_object_set_new(phases, gw_phase_name(p), ph);
		}
		json_object_set_new(o, "phases", phases);
		json_object_set_new(o, "applied", json_boolean(r && gw_applied_done(r)));
		json_array_append_new(out, o);
	}
	return out;
}
