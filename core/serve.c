/*
 * The HTTP control API: an evhttp server with a database connection of its
 * own, answering every request from the state store as it is now.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "godwit/driver.h"
#include "godwit/log.h"
#include "godwit/serve.h"
#include "godwit/state.h"
#include "godwit/status.h"

#define MAX_BODY (16 * 1024)
#define MAX_HEADERS (8 * 1024)
#define TIMEOUT_S 10
#define TOKEN_MAX 4096

struct gw_serve {
	struct event_base *base;
	struct evhttp *http;
	struct event *wake;		/* read end of stop_pipe: breaks the loop */
	struct event *sigint, *sigterm; /* gw_serve_run only */
	int stop_pipe[2];		/* gw_serve_stop writes a byte */
	pthread_t thread;
	bool threaded; /* thread is running */
	char *token;   /* NULL: POSTs refused */
	size_t token_len;
	char *database_url;
	const struct gw_graph *graph; /* borrowed */
	struct gw_conn *conn;	      /* NULL until (re)connected */
	struct gw_store store;	      /* on conn */
	char *unix_path;	      /* socket this server created, removed at the end */
	dev_t unix_dev;		      /* and its identity, so a successor's is kept */
	ino_t unix_ino;
	char address[300]; /* "http://127.0.0.1:7878/" or "unix:/path" */
};

/* One request while it is handled: what the handler found, and the reply it builds. */
struct request {
	struct gw_serve *s;
	struct evhttp_request *req;
	const char *peer;  /* client address, for logs and events */
	json_t *body;	   /* POST: the parsed object */
	int code;	   /* HTTP status */
	const char *type;  /* Content-Type */
	const char *allow; /* Allow header (405), or NULL */
	struct gw_buf out; /* the reply body */
};

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Reply with the JSON value j (stolen). */
static void reply_json(struct request *rq, int code, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	rq->code = text ? code : 500;
	rq->type = "application/json";
	gw_buf_reset(&rq->out);
	gw_buf_puts(&rq->out, text ? text : "{\"error\":\"could not encode the reply\"}");
	gw_buf_putc(&rq->out, '\n');
	free(text);
	json_decref(j);
}

/* Reply {"error": message, "hint": hint} with status code; hint may be NULL. */
static void reply_error(struct request *rq, int code, const char *hint, const char *fmt, ...)
    GW_PRINTF(4, 5);
static void reply_error(struct request *rq, int code, const char *hint, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s}", "error", msg);
	if (hint && *hint)
		json_object_set_new(j, "hint", json_string(hint));
	reply_json(rq, code, j);
}

static void reply_gw_error(struct request *rq, int code, const struct gw_error *err)
{
	reply_error(rq, code, err->hint, "%s", err->msg[0] ? err->msg : gw_strerror(err->code));
}

/* --- the state store --- */

/*
 * Bounded waits for this connection: an operator's request must not hang
 * behind a long lock, and the reply says why.
 */
static int session_setup(struct gw_conn *c, struct gw_error *err)
{
	int rc;

	if (gw_conn_dialect(c)->id == GW_DIALECT_POSTGRES) {
		rc = gw_conn_exec(c, "SET lock_timeout = '5s'", err);
		return rc < 0 ? rc : gw_conn_exec(c, "SET statement_timeout = '15s'", err);
	}
	return gw_conn_exec(c, "SET SESSION lock_wait_timeout = 5, innodb_lock_wait_timeout = 5",
			    err);
}

static int store_open(struct gw_serve *s, struct gw_error *err)
{
	int rc;

	if (s->conn)
		return 0;
	rc = gw_connect(s->database_url, &s->conn, err);
	if (rc == 0)
		rc = session_setup(s->conn, err);
	if (rc == 0) {
		gw_store_init(&s->store, s->conn);
		rc = gw_store_check(&s->store, err);
	}
	if (rc < 0) {
		gw_conn_close(s->conn);
		s->conn = NULL;
	}
	return rc;
}

/*
 * The store failed: reply 503 and drop the connection, so the next
 * request connects again (the database may have restarted).
 */
static void store_failed(struct request *rq, const struct gw_error *err)
{
	gw_warn("http", "state store: %s", err->msg);
	gw_conn_close(rq->s->conn);
	rq->s->conn = NULL;
	evhttp_add_header(evhttp_request_get_output_headers(rq->req), "Retry-After", "1");
	reply_gw_error(rq, 503, err);
}

static int load(struct request *rq, struct gw_applied_set *a)
{
	struct gw_error err = GW_ERROR_INIT;
	int rc = store_open(rq->s, &err);

	if (rc == 0)
		rc = gw_store_load(&rq->s->store, a, &err);
	if (rc < 0)
		store_failed(rq, &err);
	return rc;
}

/* --- GET --- */

static void get_status(struct request *rq)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;

	if (load(rq, &a) == 0)
		reply_json(rq, 200, gw_status_json(rq->s->graph, &a));
	gw_applied_set_release(&a);
}

static const char page[] =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>godwit</title>\n"
    "<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}"
    ".running{color:#06c}.paused,.failed,#err{color:#c30}.completed{color:#080}</style>\n"
    "</head><body><h1>godwit</h1><p id=\"err\"></p>\n"
    "<table><thead><tr><th>migration</th><th>phase</th><th>state</th><th>progress</th>"
    "<th>rows/s</th><th>waiting</th><th>lag</th></tr></thead><tbody id=\"rows\"></tbody>"
    "</table>\n<p><small>every 2 s from <a href=\"status\">status</a>; "
    "<a href=\"metrics\">metrics</a></small></p>\n<script>\n"
    "function cell(tr, text, cls) {\n"
    "  var td = tr.insertCell(); td.textContent = text == null ? '' : text;\n"
    "  if (cls) td.className = cls;\n}\n"
    "function show(list) {\n"
    "  var tb = document.getElementById('rows'); tb.textContent = '';\n"
    "  list.forEach(function (m) { Object.keys(m.phases).forEach(function (p) {\n"
    "    var ph = m.phases[p], tr = tb.insertRow();\n"
    "    cell(tr, m.id); cell(tr, p);\n"
    "    cell(tr, ph.state + (ph.control ? ' (' + ph.control + ')' : ''), ph.state);\n"
    "    cell(tr, ph.percent != null ? ph.percent.toFixed(1) + ' %'\n"
    "             : ph.rows_done != null ? ph.rows_done + ' rows' : '');\n"
    "    cell(tr, ph.rate != null ? Math.round(ph.rate) : '');\n"
    "    cell(tr, ph.waiting || ph.throttle || ph.error);\n"
    "    cell(tr, ph.lag_ms != null ? (ph.lag_ms / 1000).toFixed(1) + ' s' : '');\n"
    "  }); });\n  document.getElementById('err').textContent = '';\n}\n"
    "function load() {\n"
    "  fetch('status', {cache: 'no-store'}).then(function (r) {\n"
    "    return r.json().then(function (j) { if (!r.ok) throw new Error(j.error); return j; });\n"
    "  }).then(show).catch(function (e) {\n"
    "    document.getElementById('err').textContent = 'status: ' + e.message; });\n}\n"
    "load(); setInterval(load, 2000);\n</script></body></html>\n";

static void get_page(struct request *rq)
{
	evhttp_add_header(evhttp_request_get_output_headers(rq->req), "Content-Security-Policy",
			  "default-src 'none'; script-src 'unsafe-inline'; "
			  "style-src 'unsafe-inline'; connect-src 'self'");
	rq->code = 200;
	rq->type = "text/html; charset=utf-8";
	gw_buf_puts(&rq->out, page);
}

/* --- GET /metrics: Prometheus text format 0.0.4, from the status JSON --- */

enum family_kind {
	F_VALUE,    /* a number field of the phase, times scale */
	F_STATE,    /* one series per state, 1 for the current one */
	F_THROTTLE, /* one series per throttle reason, running/paused phases */
	F_REPLICA,  /* "replicas": [{"name", "lag_ms"}] */
	F_LIMITS,   /* an object of limits */
	F_APPLIED,  /* per migration, not per phase */
};

static const struct family {
	const char *name;
	const char *type;
	const char *help;
	enum family_kind kind;
	const char *key; /* field of the phase's status */
	double scale;
} families[] = {
    {"godwit_migration_applied", "gauge", "1 when every phase of the migration completed",
     F_APPLIED, NULL, 1},
    {"godwit_phase_state", "gauge", "State of the phase: 1 for the current state, 0 for the others",
     F_STATE, NULL, 1},
    {"godwit_rows_done", "gauge", "Rows the phase has processed", F_VALUE, "rows_done", 1},
    {"godwit_rows_total", "gauge", "Rows the phase has to process (estimate)", F_VALUE,
     "rows_total", 1},
    {"godwit_rows_per_second", "gauge", "Recent copy rate of the phase", F_VALUE, "rate", 1},
    {"godwit_eta_seconds", "gauge", "Estimated time until the phase has processed every row",
     F_VALUE, "eta_s", 1},
    {"godwit_chunk_rows", "gauge", "Rows per chunk the copy uses now", F_VALUE, "chunk", 1},
    {"godwit_chunk_seconds", "gauge", "Time the last chunk took", F_VALUE, "chunk_ms", 0.001},
    {"godwit_changes_applied_total", "counter",
     "Changes replication capture applied to the shadow table", F_VALUE, "applied", 1},
    {"godwit_capture_lag_seconds", "gauge", "How far replication capture is behind the stream",
     F_VALUE, "lag_ms", 0.001},
    {"godwit_replica_lag_seconds", "gauge", "Lag of each replica the copy watches", F_REPLICA,
     "replicas", 0.001},
    {"godwit_throttled", "gauge", "1 while the phase waits for this reason", F_THROTTLE, "throttle",
     1},
    {"godwit_cutover_blocked_seconds", "gauge", "Time writes were blocked at cut-over", F_VALUE,
     "blocked_ms", 0.001},
    {"godwit_limit", "gauge", "Limits in force (file options with operator limits over them)",
     F_LIMITS, "limits", 1},
    {"godwit_operator_limit", "gauge", "Limits an operator set live (godwit throttle)", F_LIMITS,
     "operator_limits", 1},
};

static const char *const throttle_reasons[] = {"paused", "rate", "lag", "load", "schedule", "flag"};

/* Label value escaped as the text format wants: backslash, quote, newline. */
static void put_label(struct gw_buf *b, const char *name, const char *value)
{
	gw_buf_printf(b, "%s=\"", name);
	for (const char *c = value; *c; c++) {
		if (*c == '\\')
			gw_buf_puts(b, "\\\\");
		else if (*c == '"')
			gw_buf_puts(b, "\\\"");
		else if (*c == '\n')
			gw_buf_puts(b, "\\n");
		else
			gw_buf_putc(b, *c);
	}
	gw_buf_putc(b, '"');
}

/* One sample: name{migration=..,phase=..[,extra=..]} value. phase may be NULL. */
static void put_sample(struct gw_buf *b, const char *name, const char *migration, const char *phase,
		       const char *extra, const char *extra_value, double v)
{
	gw_buf_printf(b, "%s{", name);
	put_label(b, "migration", migration);
	if (phase) {
		gw_buf_putc(b, ',');
		put_label(b, "phase", phase);
	}
	if (extra) {
		gw_buf_putc(b, ',');
		put_label(b, extra, extra_value);
	}
	if (v < 1e15 && v > -1e15 && v == (double)(long long)v)
		gw_buf_printf(b, "} %lld\n", (long long)v);
	else
		gw_buf_printf(b, "} %.9g\n", v);
}

static void family_samples(struct gw_buf *b, const struct family *f, const char *migration,
			   const char *phase, json_t *ph)
{
	json_t *v = json_object_get(ph, f->key ? f->key : "");
	const char *state = json_string_value(json_object_get(ph, "state"));
	const char *key;
	size_t i;
	json_t *x;

	switch (f->kind) {
	case F_VALUE:
		if (json_is_number(v))
			put_sample(b, f->name, migration, phase, NULL, NULL,
				   json_number_value(v) * f->scale);
		break;
	case F_STATE:
		for (int k = 0; k < GW_NSTATES; k++)
			put_sample(b, f->name, migration, phase, "state", gw_state_name(k),
				   state && strcmp(state, gw_state_name(k)) == 0);
		break;
	case F_THROTTLE:
		if (!state || (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0))
			break;
		for (i = 0; i < GW_ARRAY_SIZE(throttle_reasons); i++)
			put_sample(b, f->name, migration, phase, "reason", throttle_reasons[i],
				   json_is_string(v) &&
				       strcmp(json_string_value(v), throttle_reasons[i]) == 0);
		break;
	case F_REPLICA:
		json_array_foreach(v, i, x)
		{
			const char *name = json_string_value(json_object_get(x, "name"));
			json_t *lag = json_object_get(x, "lag_ms");

			if (name && json_is_number(lag))
				put_sample(b, f->name, migration, phase, "replica", name,
					   json_number_value(lag) * f->scale);
		}
		break;
	case F_LIMITS:
		json_object_foreach(v, key, x) if (json_is_number(x)) put_sample(
		    b, f->name, migration, phase, "limit", key, json_number_value(x) * f->scale);
		break;
	case F_APPLIED:
		break;
	}
}

static void put_metrics(struct gw_buf *b, json_t *status)
{
	struct gw_buf samples = GW_BUF_INIT;
	size_t i;
	json_t *m;

	for (size_t k = 0; k < GW_ARRAY_SIZE(families); k++) {
		const struct family *f = &families[k];

		gw_buf_reset(&samples);
		json_array_foreach(status, i, m)
		{
			const char *id = json_string_value(json_object_get(m, "id"));

			if (!id)
				continue;
			if (f->kind == F_APPLIED) {
				put_sample(&samples, f->name, id, NULL, NULL, NULL,
					   json_is_true(json_object_get(m, "applied")));
				continue;
			}
			for (int p = 0; p < GW_NPHASES; p++) {
				json_t *ph =
				    json_object_get(json_object_get(m, "phases"), gw_phase_name(p));

				if (json_is_object(ph))
					family_samples(&samples, f, id, gw_phase_name(p), ph);
			}
		}
		/* a family without a sample is left out, HELP and TYPE included */
		if (samples.len)
			gw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s", f->name, f->help,
				      f->name, f->type, samples.data);
	}
	gw_buf_release(&samples);
}

static void get_metrics(struct request *rq)
{
	struct gw_applied_set a = GW_APPLIED_SET_INIT;
	json_t *status;

	if (load(rq, &a) == 0) {
		status = gw_status_json(rq->s->graph, &a);
		rq->code = 200;
		rq->type = "text/plain; version=0.0.4; charset=utf-8";
		put_metrics(&rq->out, status);
		json_decref(status);
	}
	gw_applied_set_release(&a);
}

/* --- POST: the body's fields --- */

/* 400 naming the first field of the body not in allowed (NULL-terminated). */
static int check_fields(struct request *rq, const char *const *allowed)
{
	const char *key;
	json_t *v;
	char list[256] = "";

	for (size_t i = 0; allowed[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 allowed[i]);
	json_object_foreach(rq->body, key, v)
	{
		size_t i = 0;

		while (allowed[i] && strcmp(allowed[i], key) != 0)
			i++;
		if (!allowed[i]) {
			char hint[300];

			snprintf(hint, sizeof(hint), "the fields are %s", list);
			reply_error(rq, 400, hint, "unknown field '%s'", key);
			return -1;
		}
	}
	return 0;
}

/* Boolean field: *out untouched when absent. */
static int get_bool(struct request *rq, const char *name, bool *out)
{
	json_t *v = json_object_get(rq->body, name);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		reply_error(rq, 400, NULL, "field '%s' must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/*
 * Number field in [min, max], times scale, rounded (whole numbers only
 * when whole): *out untouched when absent; *given set when present.
 */
static int get_number(struct request *rq, const char *name, bool whole, double min, double max,
		      double scale, long long *out, bool *given)
{
	json_t *v = json_object_get(rq->body, name);
	double d;

	if (!v)
		return 0;
	d = json_number_value(v);
	if (!json_is_number(v) || d < min || d > max || (whole && d != (double)(long long)d)) {
		reply_error(rq, 400, NULL, "field '%s' must be a%s number from %g to %g", name,
			    whole ? " whole" : "", min, max);
		return -1;
	}
	*out = (long long)(d * scale + 0.5);
	*given = true;
	return 0;
}

/*
 * The migration and phase a control request names: "revision" ("REV" or
 * "REV:PHASE", REV an id, a unique prefix or "head") and an optional
 * "phase"; *phase -1 for every phase. 404 when no revision matches.
 */
static int get_target(struct request *rq, const struct gw_migration **m, int *phase)
{
	json_t *v = json_object_get(rq->body, "revision");
	json_t *pv = json_object_get(rq->body, "phase");
	const struct gw_graph *g = rq->s->graph;
	struct gw_error err = GW_ERROR_INIT;
	struct gw_target t;
	const char *text = json_string_value(v);
	size_t n, matches = 0;
	bool head;

	if (!v) {
		reply_error(rq, 400,
			    "for example {\"revision\": \"0003_x\", \"phase\": \"backfill\"}",
			    "missing field 'revision'");
		return -1;
	}
	if (!text || !*text) {
		reply_error(rq, 400, NULL,
			    "field 'revision' must be a revision id, REV or REV:PHASE");
		return -1;
	}
	if (pv && (!json_is_string(pv) || gw_phase_parse(json_string_value(pv)) < 0)) {
		reply_error(rq, 400, "the phases are expand, backfill and contract",
			    "field 'phase' must name a phase");
		return -1;
	}
	if (gw_target_parse(g, text, &t, &err) < 0) {
		/* unknown revision: 404; anything else about the text (ambiguous, bad phase): 400
		 */
		n = strcspn(text, ":");
		head = n == 4 && strncmp(text, "head", 4) == 0;
		for (size_t i = 0; i < g->n; i++)
			matches += strncmp(g->node[i]->id, text, n) == 0;
		if (matches == 0 && !head)
			reply_error(rq, 404,
				    "the server knows the revisions of its migration files",
				    "no revision matches '%.*s'", (int)n, text);
		else
			reply_gw_error(rq, 400, &err);
		return -1;
	}
	if (t.kind != GW_TARGET_REV && t.kind != GW_TARGET_HEAD) {
		reply_error(rq, 400, NULL, "field 'revision' must name one revision, not '%s'",
			    text);
		return -1;
	}
	if (pv) {
		int p = gw_phase_parse(json_string_value(pv));

		if (t.phase >= 0 && t.phase != p) {
			reply_error(rq, 400, NULL,
				    "revision '%s' and phase '%s' name different phases", text,
				    json_string_value(pv));
			return -1;
		}
		t.phase = p;
	}
	*m = g->node[t.rev];
	*phase = t.phase;
	return 0;
}

static json_t *phase_list(int phase)
{
	json_t *a = json_array();

	for (int p = 0; p < GW_NPHASES; p++)
		if (phase < 0 || p == phase)
			json_array_append_new(a, json_string(gw_phase_name(p)));
	return a;
}

/* pause (want "paused" or "stop") or resume (want NULL), as godwit pause/resume. */
static void control(struct request *rq, const struct gw_migration *m, int phase, const char *want)
{
	struct gw_error err = GW_ERROR_INIT;
	char detail[300];
	const char *what;
	int rc = store_open(rq->s, &err);

	snprintf(detail, sizeof(detail), "requested by operator over HTTP from %s", rq->peer);
	for (int p = 0; rc == 0 && p < GW_NPHASES; p++) {
		if (phase >= 0 && p != phase)
			continue;
		rc = gw_store_control(&rq->s->store, m->id, (enum gw_phase)p, want, &err);
		if (rc == 0)
			rc = gw_store_event(&rq->s->store, m->id, p, NULL, want ? want : "resume",
					    detail, &err);
	}
	if (rc < 0) {
		store_failed(rq, &err);
		return;
	}
	what = !want ? "resume" : strcmp(want, "stop") == 0 ? "stop" : "pause";
	gw_info(m->id, "%s%s%s requested over HTTP from %s", what, phase >= 0 ? " of " : "",
		phase >= 0 ? gw_phase_name(phase) : "", rq->peer);
	reply_json(rq, 200,
		   json_pack("{s:b, s:s, s:o, s:s?, s:s}", "ok", 1, "revision", m->id, "phases",
			     phase_list(phase), "control", want, "note",
			     "a running runner obeys within one chunk"));
}

static void post_pause(struct request *rq)
{
	static const char *const fields[] = {"revision", "phase", "stop", NULL};
	const struct gw_migration *m;
	bool stop = false;
	int phase;

	if (check_fields(rq, fields) == 0 && get_bool(rq, "stop", &stop) == 0 &&
	    get_target(rq, &m, &phase) == 0)
		control(rq, m, phase, stop ? "stop" : "paused");
}

static void post_resume(struct request *rq)
{
	static const char *const fields[] = {"revision", "phase", NULL};
	const struct gw_migration *m;
	int phase;

	if (check_fields(rq, fields) == 0 && get_target(rq, &m, &phase) == 0)
		control(rq, m, phase, NULL);
}

static void post_throttle(struct request *rq)
{
	static const char *const fields[] = {"revision",  "phase",      "rate",     "chunk_time_ms",
					     "max_lag_s", "max_lag_ms", "max_load", "reset",
					     NULL};
	static const char *const names[] = {"rate", "chunk_time_ms", "max_lag_ms", "max_load"};
	struct gw_limits l = GW_LIMITS_UNSET;
	struct gw_error err = GW_ERROR_INIT;
	const struct gw_migration *m;
	bool reset = false, any = false, lag_s = false, lag_ms = false;
	struct gw_buf detail = GW_BUF_INIT;
	json_t *set = NULL;
	int phase, rc;

	if (check_fields(rq, fields) < 0 || get_target(rq, &m, &phase) < 0 ||
	    get_bool(rq, "reset", &reset) < 0 ||
	    get_number(rq, "rate", true, 0, 1e12, 1, &l.rate, &any) < 0 ||
	    get_number(rq, "chunk_time_ms", true, 1, 3600000, 1, &l.chunk_time_ms, &any) < 0 ||
	    get_number(rq, "max_lag_s", false, 0, 1e9, 1000, &l.max_lag_ms, &lag_s) < 0 ||
	    get_number(rq, "max_lag_ms", true, 0, 1e12, 1, &l.max_lag_ms, &lag_ms) < 0 ||
	    get_number(rq, "max_load", true, 0, 1e12, 1, &l.max_load, &any) < 0)
		goto out;
	if (lag_s && lag_ms) {
		reply_error(rq, 400, NULL, "give 'max_lag_s' or 'max_lag_ms', not both");
		goto out;
	}
	any = any || lag_s || lag_ms;
	if (!any && !reset) {
		reply_error(rq, 400, "for example {\"revision\": \"0003_x\", \"rate\": 2000}",
			    "nothing to change: give rate, chunk_time_ms, max_lag_s, max_load "
			    "or reset");
		goto out;
	}
	set = json_object();
	/* the event as godwit throttle writes it */
	gw_buf_puts(&detail, !reset ? "throttle" : any ? "throttle reset," : "throttle reset");
	for (int k = 0; k < 4; k++) {
		const long long v[] = {l.rate, l.chunk_time_ms, l.max_lag_ms, l.max_load};

		if (v[k] == GW_LIMIT_UNSET)
			continue;
		json_object_set_new(set, names[k], json_integer(v[k]));
		gw_buf_printf(&detail, " %s=%lld", names[k], v[k]);
	}
	gw_buf_printf(&detail, "; requested by operator over HTTP from %s", rq->peer);
	rc = store_open(rq->s, &err);
	for (int p = 0; rc == 0 && p < GW_NPHASES; p++) {
		if (phase >= 0 && p != phase)
			continue;
		rc = gw_store_set_limits(&rq->s->store, m->id, (enum gw_phase)p, &l, reset, &err);
		if (rc == 0)
			rc = gw_store_event(&rq->s->store, m->id, p, NULL, NULL, detail.data, &err);
	}
	if (rc < 0) {
		store_failed(rq, &err);
		goto out;
	}
	gw_info(m->id, "%s", detail.data);
	reply_json(rq, 200,
		   json_pack("{s:b, s:s, s:o, s:O, s:b, s:s}", "ok", 1, "revision", m->id, "phases",
			     phase_list(phase), "operator_limits", set, "reset", reset, "note",
			     "a running runner applies them within one chunk"));
out:
	json_decref(set);
	gw_buf_release(&detail);
}

/* --- dispatch --- */

static const struct route {
	const char *path;
	enum evhttp_cmd_type method;
	void (*fn)(struct request *rq);
} routes[] = {
    {"/", EVHTTP_REQ_GET, get_page},	       {"/status", EVHTTP_REQ_GET, get_status},
    {"/metrics", EVHTTP_REQ_GET, get_metrics}, {"/pause", EVHTTP_REQ_POST, post_pause},
    {"/resume", EVHTTP_REQ_POST, post_resume}, {"/throttle", EVHTTP_REQ_POST, post_throttle},
};

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "?";
}

/* Bytes equal, in a time that depends on the expected length only. */
static bool token_ok(const struct gw_serve *s, const char *given)
{
	size_t n = strlen(given);
	volatile unsigned char d = n != s->token_len;

	for (size_t i = 0; i < s->token_len; i++)
		d |= (unsigned char)(s->token[i] ^ (i < n ? given[i] : 0));
	return d == 0;
}

/* 0 if the request may write; else the reply is made. */
static int authorize(struct request *rq)
{
	const char *h =
	    evhttp_find_header(evhttp_request_get_input_headers(rq->req), "Authorization");

	if (!rq->s->token) {
		reply_error(rq, 403,
			    "start godwit serve with --token-file FILE or GODWIT_HTTP_TOKEN set, "
			    "then send 'Authorization: Bearer TOKEN'",
			    "writes are disabled: this server has no token");
		return -1;
	}
	if (h && strncasecmp(h, "Bearer ", 7) == 0) {
		h += 7;
		while (*h == ' ')
			h++;
		if (token_ok(rq->s, h))
			return 0;
	}
	evhttp_add_header(evhttp_request_get_output_headers(rq->req), "WWW-Authenticate",
			  "Bearer realm=\"godwit\"");
	reply_error(rq, 401, "send 'Authorization: Bearer TOKEN' with the server's token",
		    h ? "wrong token" : "missing bearer token");
	return -1;
}

/* The request body as a JSON object into rq->body; else the reply is made. */
static int parse_body(struct request *rq)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(rq->req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, -1) : "";
	json_error_t jerr;

	rq->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rq->body) {
		reply_error(rq, 400, NULL,
			    "request body is not valid JSON: %s (line %d, column %d)", jerr.text,
			    jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(rq->body)) {
		reply_error(rq, 400, NULL, "request body must be a JSON object");
		return -1;
	}
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct request rq = {arg, req, NULL, NULL, 500, "application/json", NULL, GW_BUF_INIT};
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	const struct route *r = NULL;
	struct evbuffer *out = NULL;
	double t0 = gw_now_ms();
	char *peer = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(evhttp_request_get_connection(req), &peer, &port);
	rq.peer = rq.s->unix_path ? "the unix socket" : peer && *peer ? peer : "an unknown peer";
	if (!path || !*path)
		path = "/";
	for (size_t i = 0; i < GW_ARRAY_SIZE(routes); i++)
		if (strcmp(routes[i].path, path) == 0)
			r = &routes[i];
	if (!r) {
		reply_error(&rq, 404,
			    "the endpoints are /, /status, /metrics, /pause, /resume, /throttle",
			    "no endpoint '%s'", path);
	} else if (method != r->method) {
		rq.allow = r->method == EVHTTP_REQ_GET ? "GET" : "POST";
		reply_error(&rq, 405, NULL, "%s is not allowed on %s; use %s", method_name(method),
			    path, rq.allow);
	} else if (method == EVHTTP_REQ_GET || (authorize(&rq) == 0 && parse_body(&rq) == 0)) {
		r->fn(&rq);
	}

	if (rq.allow)
		evhttp_add_header(hdr, "Allow", rq.allow);
	evhttp_add_header(hdr, "Content-Type", rq.type);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	out = evbuffer_new();
	if (out)
		evbuffer_add(out, rq.out.data, rq.out.len);
	evhttp_send_reply(req, rq.code, reason(rq.code), out);
	gw_debug("http", "%s %s from %s: %d (%.1f ms)", method_name(method),
		 evhttp_request_get_uri(req), rq.peer, rq.code, gw_now_ms() - t0);
	evbuffer_free(out);
	json_decref(rq.body);
	gw_buf_release(&rq.out);
}

/* --- listening --- */

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >>
			24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static int listen_tcp(struct gw_serve *s, const char *text, int *fdp, struct gw_error *err)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char *host = NULL, hbuf[256], pbuf[32];
	const char *port, *colon;
	int fd = -1, one = 1, rc = 0, g;

	/* HOST:PORT, or [V6]:PORT */
	if (text[0] == '[') {
		colon = strchr(text, ']');
		if (colon && colon[1] != ':')
			colon = NULL;
		host = colon ? gw_strndup(text + 1, (size_t)(colon - text - 1)) : NULL;
		colon = colon ? colon + 1 : NULL;
	} else {
		colon = strrchr(text, ':');
		host = colon ? gw_strndup(text, (size_t)(colon - text)) : NULL;
	}
	port = colon ? colon + 1 : "";
	if (!host || !*host || !*port || strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || atoi(port) > 65535) {
		rc = gw_error_set(err, GW_ERR_USAGE, "bad listen address '%s'", text);
		gw_error_hint(err, "use HOST:PORT, [V6]:PORT or unix:/PATH, e.g. %s",
			      GW_SERVE_DEFAULT_LISTEN);
		goto out;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	g = getaddrinfo(host, port, &hints, &res);
	if (g != 0) {
		rc = gw_error_set(err, GW_ERR_USAGE, "could not resolve listen host '%s': %s", host,
				  gai_strerror(g));
		goto out;
	}
	for (struct addrinfo *ai = res; ai && !s->token; ai = ai->ai_next) {
		if (is_loopback(ai->ai_addr))
			continue;
		rc =
		    gw_error_set(err, GW_ERR_USAGE,
				 "refusing to listen on '%s' without a token: it is not a loopback "
				 "address",
				 text);
		gw_error_hint(err, "set GODWIT_HTTP_TOKEN or pass --token-file FILE, or listen on "
				   "127.0.0.1:PORT or unix:/PATH");
		goto out;
	}
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0) {
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	}
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not listen on '%s': %s", text,
				  strerror(errno));
		if (errno == EADDRINUSE)
			gw_error_hint(err, "another process listens there: stop it or pick another "
					   "port with --listen");
		goto out;
	}
	if (getnameinfo((struct sockaddr *)&ss, sslen, hbuf, sizeof(hbuf), pbuf, sizeof(pbuf),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(s->address, sizeof(s->address), "http://%s/", text);
	else if (ss.ss_family == AF_INET6)
		snprintf(s->address, sizeof(s->address), "http://[%s]:%s/", hbuf, pbuf);
	else
		snprintf(s->address, sizeof(s->address), "http://%s:%s/", hbuf, pbuf);
	*fdp = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
	free(host);
	return rc;
}

/*
 * Listen on a unix socket at path, mode 0600 from the start (the umask
 * covers the bind). A socket already there that accepts connections
 * belongs to a live server: refused. One that refuses them is stale:
 * removed.
 */
static int listen_unix(struct gw_serve *s, const char *path, int *fdp, struct gw_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd = -1, probe, rc = 0, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		rc = gw_error_set(err, GW_ERR_USAGE, "bad unix socket path '%s'", path);
		gw_error_hint(err, "give a path of 1 to %zu bytes, unix:/run/godwit.sock",
			      sizeof(sa.sun_path) - 1);
		return rc;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rc = gw_error_set(
			    err, GW_ERR_IO,
			    "could not listen on 'unix:%s': it exists and is not a socket", path);
			return rc;
		}
		probe = socket(AF_UNIX, SOCK_STREAM, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			rc = gw_error_set(
			    err, GW_ERR_IO,
			    "could not listen on 'unix:%s': another server listens on it", path);
			gw_error_hint(err, "stop that server, or choose another path");
			return rc;
		}
		e = errno;
		if (probe >= 0)
			close(probe);
		if (probe >= 0 && e == ECONNREFUSED && unlink(path) == 0)
			gw_info("http", "removed the stale socket 'unix:%s'", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not listen on 'unix:%s': %s", path,
				  strerror(errno));
		return rc;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	old = umask(0177);
	e = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (e < 0 || chmod(path, 0600) < 0 || stat(path, &st) < 0 || listen(fd, 64) < 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not listen on 'unix:%s': %s", path,
				  strerror(errno));
		if (e == 0)
			unlink(path);
		close(fd);
		return rc;
	}
	s->unix_path = gw_strdup(path);
	s->unix_dev = st.st_dev;
	s->unix_ino = st.st_ino;
	snprintf(s->address, sizeof(s->address), "unix:%s", path);
	*fdp = fd;
	return 0;
}

/* --- lifecycle --- */

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct gw_serve *s = arg;
	char c;

	(void)what;
	(void)!read(fd, &c, 1);
	event_base_loopbreak(s->base);
}

static void serve_free(struct gw_serve *s)
{
	struct stat st;

	if (!s)
		return;
	if (s->http)
		evhttp_free(s->http);
	if (s->wake)
		event_free(s->wake);
	if (s->sigint)
		event_free(s->sigint);
	if (s->sigterm)
		event_free(s->sigterm);
	if (s->base)
		event_base_free(s->base);
	for (int i = 0; i < 2; i++)
		if (s->stop_pipe[i] >= 0)
			close(s->stop_pipe[i]);
	/* only the socket this server made: a successor may have replaced it */
	if (s->unix_path && lstat(s->unix_path, &st) == 0 && st.st_dev == s->unix_dev &&
	    st.st_ino == s->unix_ino)
		unlink(s->unix_path);
	gw_conn_close(s->conn);
	free(s->unix_path);
	free(s->database_url);
	free(s->token);
	free(s);
}

static int serve_new(const struct gw_serve_opts *o, struct gw_serve **out, struct gw_error *err)
{
	const char *listen_at = o->listen ? o->listen : GW_SERVE_DEFAULT_LISTEN;
	struct gw_serve *s = gw_calloc(1, sizeof(*s));
	int fd = -1, rc = 0;

	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	s->graph = o->graph;
	s->token = gw_strdup(o->token);
	s->token_len = s->token ? strlen(s->token) : 0;
	s->database_url = gw_strdup(o->database_url);
	if (!s->database_url || !*s->database_url) {
		rc = gw_error_set(err, GW_ERR_USAGE, "no database given");
		gw_error_hint(err,
			      "pass --database-url or set GODWIT_DATABASE_URL or DATABASE_URL");
		goto out;
	}
	if (s->token && !*s->token) {
		rc = gw_error_set(err, GW_ERR_USAGE, "empty token");
		goto out;
	}
	s->base = event_base_new();
	s->http = s->base ? evhttp_new(s->base) : NULL;
	if (!s->http || pipe(s->stop_pipe) < 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not set up the HTTP server: %s",
				  strerror(errno));
		goto out;
	}
	s->wake = event_new(s->base, s->stop_pipe[0], EV_READ, on_wake, s);
	if (!s->wake || event_add(s->wake, NULL) < 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not set up the HTTP server");
		goto out;
	}
	/* fails early on a bad URL, a missing store or wrong credentials */
	rc = store_open(s, err);
	if (rc < 0)
		goto out;
	if (strncmp(listen_at, "unix:", 5) == 0)
		rc = listen_unix(s, listen_at + 5, &fd, err);
	else
		rc = listen_tcp(s, listen_at, &fd, err);
	if (rc < 0)
		goto out;
	/* the listener accepts until EAGAIN: a blocking socket would stall the loop */
	if (evutil_make_socket_nonblocking(fd) < 0 ||
	    !evhttp_accept_socket_with_handle(s->http, fd)) {
		close(fd);
		rc = gw_error_set(err, GW_ERR_IO, "could not serve on '%s'", listen_at);
		goto out;
	}
	evhttp_set_max_body_size(s->http, MAX_BODY);
	evhttp_set_max_headers_size(s->http, MAX_HEADERS);
	evhttp_set_timeout(s->http, TIMEOUT_S);
	/* every method reaches on_request, which answers 405 with Allow */
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(s->http, NULL);
	evhttp_set_gencb(s->http, on_request, s);
	gw_info("http", "serving on %s (%s)", s->address,
		s->token ? "POST needs the bearer token" : "no token: POST refused");
out:
	if (rc < 0) {
		serve_free(s);
		s = NULL;
	}
	*out = s;
	return rc;
}

static void *serve_thread(void *arg)
{
	struct gw_serve *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

int gw_serve_start(struct gw_serve **out, const struct gw_serve_opts *o, struct gw_error *err)
{
	struct gw_serve *s = NULL;
	sigset_t all, old;
	int rc = serve_new(o, &s, err), e;

	*out = NULL;
	if (rc < 0)
		return rc;
	/* the thread inherits a mask blocking every signal: they stay the runner's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&s->thread, NULL, serve_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		rc = gw_error_set(err, GW_ERR_IO, "could not start the HTTP thread: %s",
				  strerror(e));
		serve_free(s);
		return rc;
	}
	s->threaded = true;
	*out = s;
	return 0;
}

const char *gw_serve_address(const struct gw_serve *s)
{
	return s->address;
}

void gw_serve_stop(struct gw_serve *s)
{
	if (!s)
		return;
	if (s->threaded) {
		if (write(s->stop_pipe[1], "x", 1) != 1)
			gw_warn("http", "could not wake the HTTP thread: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	serve_free(s);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct gw_serve *s = arg;

	(void)what;
	gw_info("http", "stopping on signal %d", (int)sig);
	event_base_loopbreak(s->base);
}

int gw_serve_run(const struct gw_serve_opts *o, struct gw_error *err)
{
	struct gw_serve *s = NULL;
	struct sigaction sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	rc = serve_new(o, &s, err);
	if (rc < 0)
		return rc;
	s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
	s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
	if (!s->sigint || !s->sigterm || event_add(s->sigint, NULL) < 0 ||
	    event_add(s->sigterm, NULL) < 0)
		rc = gw_error_set(err, GW_ERR_IO, "could not catch SIGINT and SIGTERM");
	else if (event_base_dispatch(s->base) < 0)
		rc = gw_error_set(err, GW_ERR_IO, "the HTTP event loop failed");
	serve_free(s);
	return rc;
}

int gw_serve_token(const char *file, char **out, struct gw_error *err)
{
	char buf[TOKEN_MAX + 1];
	const char *src = file;
	struct stat st;
	size_t n = 0;
	FILE *f;

	*out = NULL;
	if (file) {
		f = fopen(file, "r");
		if (!f)
			return gw_error_set(err, GW_ERR_IO, "could not read token file '%s': %s",
					    file, strerror(errno));
		n = fread(buf, 1, sizeof(buf), f);
		if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
			gw_warn("http", "token file '%s' is readable by others (mode %03o)", file,
				(unsigned)(st.st_mode & 0777));
		fclose(f);
		if (n > TOKEN_MAX)
			return gw_error_set(err, GW_ERR_INPUT, "token file '%s' is over %d bytes",
					    file, TOKEN_MAX);
		buf[n] = '\0';
	} else {
		const char *env = getenv(GW_SERVE_TOKEN_ENV);

		if (!env)
			return 0;
		src = "$" GW_SERVE_TOKEN_ENV;
		snprintf(buf, sizeof(buf), "%s", env);
		n = strlen(buf);
	}
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
		     buf[n - 1] == '\t'))
		buf[--n] = '\0';
	if (n == 0)
		return gw_error_set(err, GW_ERR_INPUT, "the token in '%s' is empty", src);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] <= ' ' || buf[i] == 0x7f)
			return gw_error_set(err, GW_ERR_INPUT,
					    "the token in '%s' holds a blank or control character",
					    src);
	*out = gw_strdup(buf);
	return 0;
}
