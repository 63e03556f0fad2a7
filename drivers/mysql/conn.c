/*
 * MariaDB/MySQL connections: connect, queries with client-side parameter
 * substitution, error classification and advisory locks.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/buf.h"
#include "godwit/dialect.h"
#include "mysql_int.h"

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT 3306
#define DEFAULT_CONNECT_TIMEOUT 10
#define DEFAULT_CHARSET "utf8mb4"

/* Portable class of a native error number (server ER_* or client CR_*). */
GW_STATIC int gw_mysql_classify_errno(unsigned int e)
{
	switch (e) {
	case 1205: /* ER_LOCK_WAIT_TIMEOUT, InnoDB rows and metadata locks */
		return GW_ERR_DB_LOCK_TIMEOUT;
	case 1213: /* ER_LOCK_DEADLOCK */
	case 1040: /* ER_CON_COUNT_ERROR */
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 2006: /* CR_SERVER_GONE_ERROR */
	case 2013: /* CR_SERVER_LOST */
	case 2055: /* CR_SERVER_LOST_EXTENDED */
		return GW_ERR_DB_RETRY;
	case 1062: /* ER_DUP_ENTRY */
	case 1586: /* ER_DUP_ENTRY_WITH_KEY_NAME */
		return GW_ERR_DB_DUPLICATE;
	case 1049: /* ER_BAD_DB_ERROR */
	case 1051: /* ER_BAD_TABLE_ERROR */
	case 1054: /* ER_BAD_FIELD_ERROR */
	case 1091: /* ER_CANT_DROP_FIELD_OR_KEY */
	case 1146: /* ER_NO_SUCH_TABLE */
	case 1176: /* ER_KEY_DOES_NOT_EXITS */
		return GW_ERR_DB_UNDEFINED;
	case 1050: /* ER_TABLE_EXISTS_ERROR */
	case 1060: /* ER_DUP_FIELDNAME */
	case 1061: /* ER_DUP_KEYNAME */
	case 1359: /* ER_TRG_ALREADY_EXISTS */
	case 1826: /* ER_FK_DUP_NAME */
		return GW_ERR_DB_EXISTS;
	default:
		return GW_ERR_DB;
	}
}

/*
 * Fill err from the last error of my: native errno, SQLSTATE and
 * "<what>: <server message>". code 0 means classify the errno.
 */
static int db_error(struct gw_error *err, MYSQL *my, int code, const char *what)
{
	unsigned int e = mysql_errno(my);
	const char *state = mysql_sqlstate(my);

	if (code == 0)
		code = gw_mysql_classify_errno(e);
	if (err && err->code == 0) {
		size_t i;

		err->db_errno = (int)e;
		for (i = 0; state && state[i] && i < sizeof(err->sqlstate) - 1; i++)
			err->sqlstate[i] = state[i];
		err->sqlstate[i] = '\0';
	}
	return gw_error_set(err, code, "%s: %s", what, mysql_error(my));
}

/* Append s as a quoted string literal escaped by the client library. */
static void put_literal(struct gw_buf *b, MYSQL *my, const char *s)
{
	size_t n = strlen(s);
	char *tmp = gw_malloc(2 * n + 1);
	unsigned long len;

#ifdef MARIADB_PACKAGE_VERSION_ID
	len = mysql_real_escape_string(my, tmp, s, (unsigned long)n);
#else
	/* libmysqlclient refuses the plain form under NO_BACKSLASH_ESCAPES */
	len = mysql_real_escape_string_quote(my, tmp, s, (unsigned long)n, '\'');
#endif
	gw_buf_putc(b, '\'');
	gw_buf_put(b, tmp, (size_t)len);
	gw_buf_putc(b, '\'');
	free(tmp);
}

/* End of the quoted text starting at p (on the opening quote). */
static const char *skip_quoted(const char *p, bool backslash)
{
	char q = *p++;

	while (*p) {
		if (backslash && *p == '\\' && p[1]) {
			p += 2;
		} else if (*p == q) {
			if (p[1] != q)
				return p + 1;
			p += 2;
		} else {
			p++;
		}
	}
	return p;
}

/* Length of the comment starting at p, 0 if none starts there. */
static size_t comment_len(const char *p)
{
	const char *end = NULL;

	if (p[0] == '#' || (p[0] == '-' && p[1] == '-' &&
			    (p[2] == '\0' || isspace((unsigned char)p[2]) ||
			     iscntrl((unsigned char)p[2])))) {
		end = strchr(p, '\n');
		end = end ? end + 1 : p + strlen(p);
	} else if (p[0] == '/' && p[1] == '*') {
		end = strstr(p + 2, "*/");
		end = end ? end + 2 : p + strlen(p);
	}
	return end ? (size_t)(end - p) : 0;
}

static bool is_ident_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '$' || (unsigned char)ch >= 0x80;
}

/*
 * Append sql to out with every $N outside literals, quoted identifiers and
 * comments replaced by params[N-1] as an escaped literal, or NULL. A $
 * inside an unquoted identifier (a$1) is left alone; $1$2 is two parameters.
 */
GW_STATIC int gw_mysql_expand_params(struct gw_buf *out, MYSQL *my, const char *sql,
				     int nparams, const char *const *params, const char *what,
				     struct gw_error *err)
{
	bool backslash = !(my->server_status & SERVER_STATUS_NO_BACKSLASH_ESCAPES);
	const char *run = sql, *p = sql, *param_end = NULL;

	gw_assert(nparams >= 0 && (nparams == 0 || params));
	while (*p) {
		size_t n;

		if (*p == '\'' || *p == '"') {
			p = skip_quoted(p, backslash);
		} else if (*p == '`') {
			p = skip_quoted(p, false);
		} else if ((n = comment_len(p)) > 0) {
			p += n;
		} else if (*p == '$' && isdigit((unsigned char)p[1]) &&
			   (p == sql || p == param_end || !is_ident_char(p[-1]))) {
			const char *d = p + 1;
			long long num = 0;

			while (isdigit((unsigned char)*d)) {
				if (num <= nparams)
					num = num * 10 + (*d - '0');
				d++;
			}
			if (num < 1 || num > nparams)
				return gw_error_set(err, GW_ERR_INPUT,
						    "%s: parameter $%.*s out of range (%d given)",
						    what, (int)(d - p - 1), p + 1, nparams);
			gw_buf_put(out, run, (size_t)(p - run));
			if (params[num - 1])
				put_literal(out, my, params[num - 1]);
			else
				gw_buf_puts(out, "NULL");
			p = run = param_end = d;
		} else {
			p++;
		}
	}
	gw_buf_put(out, run, (size_t)(p - run));
	return 0;
}

/* New result holding every row of mr. */
static struct gw_result *build_result(MYSQL_RES *mr)
{
	unsigned int n = mysql_num_fields(mr);
	MYSQL_FIELD *fields = mysql_fetch_fields(mr);
	const char **names = gw_calloc(n, sizeof(*names));
	struct gw_result *r;
	MYSQL_ROW row;

	for (unsigned int i = 0; i < n; i++)
		names[i] = fields[i].name;
	r = gw_result_new((int)n, names);
	while ((row = mysql_fetch_row(mr)))
		gw_result_add_row(r, (const char *const *)row);
	free(names);
	return r;
}

int gw_mysql_run(struct mysql_conn *mc, const char *sql, int nparams,
		 const char *const *params, struct gw_result **res, const char *what,
		 struct gw_error *err)
{
	struct gw_buf q = GW_BUF_INIT;
	MYSQL_RES *mr = NULL;
	struct gw_result *r;
	int rc;

	rc = gw_mysql_expand_params(&q, mc->my, sql, nparams, params, what, err);
	if (rc < 0)
		goto out;
	if (mysql_real_query(mc->my, q.data, (unsigned long)q.len) != 0) {
		rc = db_error(err, mc->my, 0, what);
		goto out;
	}
	/* always drain a result set, even when the caller does not want it */
	mr = mysql_store_result(mc->my);
	if (!mr && mysql_field_count(mc->my) != 0) {
		rc = db_error(err, mc->my, 0, what);
		goto out;
	}
	if (res) {
		if (mr) {
			r = build_result(mr);
		} else {
			r = gw_result_new(0, NULL);
			r->affected = (long long)mysql_affected_rows(mc->my);
		}
		*res = r;
	}
	rc = 0;
out:
	if (mr)
		mysql_free_result(mr);
	gw_buf_release(&q);
	return rc;
}

int gw_mysql_query(struct gw_conn *c, const char *sql, int nparams, const char *const *params,
		   struct gw_result **res, struct gw_error *err)
{
	return gw_mysql_run(gw_mysql_downcast(c), sql, nparams, params, res, "query failed",
			    err);
}

/* Ordered by strength after UNSET. */
enum tls_mode {
	TLS_MODE_UNSET,
	TLS_MODE_DISABLE,
	TLS_MODE_PREFER,
	TLS_MODE_REQUIRE,
	TLS_MODE_VERIFY_CA,
	TLS_MODE_VERIFY_FULL,
};

/* MySQL client --ssl-mode spellings and libpq sslmode spellings. */
static const struct {
	const char *name;
	enum tls_mode mode;
} tls_modes[] = {
	{"disabled", TLS_MODE_DISABLE},     {"disable", TLS_MODE_DISABLE},
	{"allow", TLS_MODE_PREFER},         {"prefer", TLS_MODE_PREFER},
	{"preferred", TLS_MODE_PREFER},     {"require", TLS_MODE_REQUIRE},
	{"required", TLS_MODE_REQUIRE},     {"verify_ca", TLS_MODE_VERIFY_CA},
	{"verify-ca", TLS_MODE_VERIFY_CA},  {"verify_identity", TLS_MODE_VERIFY_FULL},
	{"verify-identity", TLS_MODE_VERIFY_FULL}, {"verify-full", TLS_MODE_VERIFY_FULL},
	{"verify_full", TLS_MODE_VERIFY_FULL},
};

static const char *url_opt2(const struct gw_url *url, const char *a, const char *b)
{
	const char *v = gw_url_option(url, a);

	return v ? v : gw_url_option(url, b);
}

static int set_option(MYSQL *my, enum mysql_option opt, const void *arg, const char *name,
		      struct gw_error *err)
{
	if (mysql_options(my, opt, arg) != 0)
		return gw_error_set(err, GW_ERR_CONNECT, "could not set mysql option '%s'",
				    name);
	return 0;
}

/* Apply ssl_mode and the certificate files; *require is set if TLS is mandatory. */
static int set_tls(MYSQL *my, const struct gw_url *url, bool *require, struct gw_error *err)
{
	const char *mode_text = url_opt2(url, "ssl_mode", "sslmode");
	const char *ca = gw_url_option(url, "ssl_ca");
	const char *cert = gw_url_option(url, "ssl_cert");
	const char *key = gw_url_option(url, "ssl_key");
	enum tls_mode mode = TLS_MODE_UNSET;
	int rc = 0;

	if (mode_text) {
		size_t i;

		for (i = 0; i < GW_ARRAY_SIZE(tls_modes); i++)
			if (strcasecmp(mode_text, tls_modes[i].name) == 0)
				break;
		if (i == GW_ARRAY_SIZE(tls_modes))
			return gw_error_set(err, GW_ERR_URL, "invalid ssl_mode '%s'", mode_text);
		mode = tls_modes[i].mode;
	}
	*require = mode >= TLS_MODE_REQUIRE;
	if (ca && (rc = set_option(my, MYSQL_OPT_SSL_CA, ca, "ssl_ca", err)) < 0)
		return rc;
	if (cert && (rc = set_option(my, MYSQL_OPT_SSL_CERT, cert, "ssl_cert", err)) < 0)
		return rc;
	if (key && (rc = set_option(my, MYSQL_OPT_SSL_KEY, key, "ssl_key", err)) < 0)
		return rc;
	if (mode == TLS_MODE_UNSET)
		return 0;
#ifdef MARIADB_PACKAGE_VERSION_ID
	{
		/*
		 * Connector/C: "enforce" alone falls back to plain text when the
		 * server has no TLS (so it means preferred; conn_connect checks
		 * required), verification refuses that; certificate files alone
		 * turn enforce on.
		 */
		my_bool enforce = mode != TLS_MODE_DISABLE;
		my_bool verify = mode >= TLS_MODE_VERIFY_CA;

		rc = set_option(my, MYSQL_OPT_SSL_ENFORCE, &enforce, "ssl_mode", err);
		if (rc == 0)
			rc = set_option(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify, "ssl_mode",
					err);
	}
#else
	{
		unsigned int m;

		switch (mode) {
		case TLS_MODE_DISABLE:
			m = SSL_MODE_DISABLED;
			break;
		case TLS_MODE_PREFER:
			m = SSL_MODE_PREFERRED;
			break;
		case TLS_MODE_REQUIRE:
			m = SSL_MODE_REQUIRED;
			break;
		case TLS_MODE_VERIFY_CA:
			m = SSL_MODE_VERIFY_CA;
			break;
		default:
			m = SSL_MODE_VERIFY_IDENTITY;
			break;
		}
		rc = set_option(my, MYSQL_OPT_SSL_MODE, &m, "ssl_mode", err);
	}
#endif
	return rc;
}

static int set_options(MYSQL *my, const struct gw_url *url, bool *require_tls,
		       struct gw_error *err)
{
	const char *charset = gw_url_option(url, "charset");
	const char *timeout_text = gw_url_option(url, "connect_timeout");
	unsigned int timeout = DEFAULT_CONNECT_TIMEOUT;
	int rc;

	if (timeout_text) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(timeout_text, &end, 10);
		if (!isdigit((unsigned char)*timeout_text) || *end || errno || v > INT_MAX)
			return gw_error_set(err, GW_ERR_URL, "invalid connect_timeout '%s'",
					    timeout_text);
		timeout = (unsigned int)v;
	}
	rc = set_option(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout, "connect_timeout", err);
	if (rc < 0)
		return rc;
	rc = set_option(my, MYSQL_SET_CHARSET_NAME, charset ? charset : DEFAULT_CHARSET,
			"charset", err);
	if (rc < 0)
		return rc;
#ifdef MARIADB_PACKAGE_VERSION_ID
	{
		/* off is libmysqlclient's default, and 8.0.34 deprecates the option */
		my_bool reconnect = 0;

		rc = set_option(my, MYSQL_OPT_RECONNECT, &reconnect, "reconnect", err);
		if (rc < 0)
			return rc;
	}
#endif
	return set_tls(my, url, require_tls, err);
}

/* server_version without the "5.5.5-" replication prefix of old MariaDB. */
static void set_version(struct gw_conn *base, MYSQL *my)
{
	const char *v = mysql_get_server_info(my);
	unsigned int major, minor, patch;

	if (!v)
		v = "";
	if (strncmp(v, "5.5.5-", 6) == 0 && strstr(v, "MariaDB"))
		v += 6;
	snprintf(base->server_version, sizeof(base->server_version), "%s", v);
	if (sscanf(v, "%u.%u.%u", &major, &minor, &patch) == 3 && major < 1000 &&
	    minor < 100 && patch < 100)
		base->server_num = (int)(major * 10000 + minor * 100 + patch);
	else
		base->server_num = (int)mysql_get_server_version(my);
}

static void conn_close(struct gw_conn *c)
{
	struct mysql_conn *mc;

	if (!c)
		return;
	mc = gw_mysql_downcast(c);
	if (mc->my)
		mysql_close(mc->my);
	free(mc->base.database);
	free(mc->base.schema);
	free(mc);
}

static int conn_connect(const struct gw_url *url, struct gw_conn **out, struct gw_error *err)
{
	const char *sock = url_opt2(url, "unix_socket", "socket");
	const char *host = url->host;
	const char *password = url->password;
	unsigned int port = url->port > 0 ? (unsigned int)url->port : DEFAULT_PORT;
	struct mysql_conn *mc = NULL;
	struct gw_result *r = NULL;
	MYSQL *my = NULL;
	bool require_tls = false;
	char *where = NULL;
	int rc;

	if (!host && !sock)
		host = DEFAULT_HOST;
	if (!password)
		password = getenv("MYSQL_PWD");
	if (sock && (!host || strcmp(host, "localhost") == 0))
		where = gw_strdup(sock);
	else if (strchr(host, ':'))
		where = gw_asprintf("[%s]:%u", host, port);
	else
		where = gw_asprintf("%s:%u", host, port);

	my = mysql_init(NULL);
	if (!my) {
		rc = gw_error_set(err, GW_ERR_NOMEM, "could not allocate a mysql connection");
		goto out;
	}
	rc = set_options(my, url, &require_tls, err);
	if (rc < 0)
		goto out;
	if (!mysql_real_connect(my, host, url->user, password, url->database, port, sock, CLIENT_FOUND_ROWS)) {
		char *what = gw_asprintf("could not connect to mysql server at '%s'", where);

		rc = db_error(err, my, GW_ERR_CONNECT, what);
		free(what);
		goto out;
	}
	if (require_tls && !mysql_get_ssl_cipher(my)) {
		rc = gw_error_set(err, GW_ERR_CONNECT,
				  "could not connect to mysql server at '%s': ssl_mode requires TLS "
				  "and the server does not offer it", where);
		goto out;
	}

	mc = gw_calloc(1, sizeof(*mc));
	mc->base.drv = &gw_driver_mysql;
	mc->my = my;
	my = NULL;
	set_version(&mc->base, mc->my);
	rc = gw_mysql_run(mc, "SELECT DATABASE()", 0, NULL, &r, "could not read current database",
			  err);
	if (rc < 0)
		goto out;
	if (r->nrows == 1 && r->ncols == 1 && gw_result_get(r, 0, 0)) {
		mc->base.database = gw_strdup(gw_result_get(r, 0, 0));
		mc->base.schema = gw_strdup(mc->base.database);
	}
	*out = &mc->base;
	mc = NULL;
	rc = 0;
out:
	gw_result_free(r);
	conn_close(mc ? &mc->base : NULL);
	if (my)
		mysql_close(my);
	free(where);
	return rc;
}

/* The single value of a one-cell result, NULL for SQL NULL or another shape. */
static const char *single_value(const struct gw_result *r)
{
	return r->nrows == 1 && r->ncols == 1 ? gw_result_get(r, 0, 0) : NULL;
}

static int conn_try_lock(struct gw_conn *c, const char *name, bool *got, struct gw_error *err)
{
	char *what = gw_asprintf("could not take lock '%s'", name);
	struct gw_result *r = NULL;
	const char *v;
	int rc;

	rc = gw_mysql_run(gw_mysql_downcast(c), "SELECT GET_LOCK($1, 0)", 1, &name, &r, what,
			  err);
	if (rc < 0)
		goto out;
	v = single_value(r);
	if (!v) {
		rc = gw_error_set(err, GW_ERR_DB, "%s: GET_LOCK returned NULL", what);
		goto out;
	}
	*got = strcmp(v, "1") == 0;
out:
	gw_result_free(r);
	free(what);
	return rc;
}

static int conn_unlock(struct gw_conn *c, const char *name, struct gw_error *err)
{
	char *what = gw_asprintf("could not release lock '%s'", name);
	struct gw_result *r = NULL;
	const char *v;
	int rc;

	rc = gw_mysql_run(gw_mysql_downcast(c), "SELECT RELEASE_LOCK($1)", 1, &name, &r, what,
			  err);
	if (rc < 0)
		goto out;
	v = single_value(r);
	if (!v || strcmp(v, "1") != 0)
		rc = gw_error_set(err, GW_ERR_DB, "%s: not held by this session", what);
out:
	gw_result_free(r);
	free(what);
	return rc;
}

const struct gw_driver gw_driver_mysql = {
	.version = 1,
	.name = "mysql",
	.dialect = &gw_dialect_mysql,
	.connect = conn_connect,
	.close = conn_close,
	.query = gw_mysql_query,
	.try_lock = conn_try_lock,
	.unlock = conn_unlock,
	.describe = gw_mysql_describe,
	.list_tables = gw_mysql_list_tables,
	.stream = &gw_mysql_stream,
};
