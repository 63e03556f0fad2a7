/*
 * Database URL parsing and redaction.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "godwit/buf.h"
#include "godwit/url.h"

static const struct {
	const char *scheme;
	const char *engine;
} schemes[] = {
	{"postgres", "postgres"},
	{"postgresql", "postgres"},
	{"mysql", "mysql"},
	{"mariadb", "mysql"},
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* New percent-decoded copy of s[0..n), or NULL if an escape is malformed. */
static char *decode(const char *s, size_t n)
{
	struct gw_buf b = GW_BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			gw_buf_putc(&b, s[i]);
			continue;
		}
		/* "%00" would silently cut the C string short: reject it too. */
		if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
		    (s[i + 1] == '0' && s[i + 2] == '0')) {
			gw_buf_release(&b);
			return NULL;
		}
		gw_buf_putc(&b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
		i += 2;
	}
	return gw_buf_detach(&b);
}

/* Decode s[0..n) into *out; the field name goes into the error. */
static int decode_field(const char *s, size_t n, char **out, const char *field,
			struct gw_error *err)
{
	*out = decode(s, n);
	if (!*out)
		return gw_error_set(err, GW_ERR_URL, "bad database url: malformed %%-escape in %s",
				    field);
	return 0;
}

static int parse_query(const char *q, struct gw_url *url, struct gw_error *err)
{
	while (*q) {
		size_t len = strcspn(q, "&");
		const char *eq = memchr(q, '=', len);
		size_t klen = eq ? (size_t)(eq - q) : len;
		int rc;

		if (len == 0) {
			q++;
			continue;
		}
		url->keys = gw_realloc(url->keys, (size_t)(url->nopts + 1) * sizeof(char *));
		url->values = gw_realloc(url->values, (size_t)(url->nopts + 1) * sizeof(char *));
		url->keys[url->nopts] = NULL;
		url->values[url->nopts] = NULL;
		url->nopts++;
		rc = decode_field(q, klen, &url->keys[url->nopts - 1], "query option", err);
		if (rc < 0)
			return rc;
		rc = decode_field(eq ? eq + 1 : q + len, eq ? len - klen - 1 : 0,
				  &url->values[url->nopts - 1], "query option", err);
		if (rc < 0)
			return rc;
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

static int parse_hostport(const char *s, size_t n, struct gw_url *url, struct gw_error *err)
{
	const char *colon = NULL;
	size_t hlen = n;
	int rc;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return gw_error_set(err, GW_ERR_URL, "bad database url: unclosed '[' in host");
		/* Decoded like any host: a zone id is written "[fe80::1%25eth0]". */
		rc = decode_field(s + 1, (size_t)(close - s - 1), &url->host, "host", err);
		if (rc < 0)
			return rc;
		if ((size_t)(close - s + 1) < n) {
			if (close[1] != ':')
				return gw_error_set(err, GW_ERR_URL,
						    "bad database url: unexpected text after ']'");
			colon = close + 1;
		}
	} else {
		for (const char *p = s + n; p > s; p--)
			if (p[-1] == ':') {
				colon = p - 1;
				break;
			}
		/* "h1:5432,h2:5433" is libpq's multi-host form: pass it whole. */
		if (colon && memchr(s, ',', n))
			colon = NULL;
		hlen = colon ? (size_t)(colon - s) : n;
		if (hlen > 0) {
			rc = decode_field(s, hlen, &url->host, "host", err);
			if (rc < 0)
				return rc;
		}
	}
	if (colon) {
		const char *p = colon + 1;
		const char *end = s + n;
		long port = 0;

		if (p == end)
			return gw_error_set(err, GW_ERR_URL, "bad database url: empty port");
		/*
		 * Digits first, range after, so "99999999" is out of range rather
		 * than "not a number". The value is not echoed: when an unescaped
		 * '/' in a password hides the '@', "u:70000/x@h" reads as host "u"
		 * and port "70000", and the port text is then part of the password.
		 */
		for (; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return gw_error_set(err, GW_ERR_URL,
						    "bad database url: port is not a number");
			if (port <= 65535)
				port = port * 10 + (*p - '0');
		}
		if (port < 1 || port > 65535)
			return gw_error_set(err, GW_ERR_URL,
					    "bad database url: port out of range 1-65535");
		url->port = (int)port;
	}
	return 0;
}

/*
 * Whether s[0..n) is an RFC 3986 scheme. Without "scheme://" up front the
 * "://" found may sit anywhere, for example in a query option after a
 * password: only a well-formed scheme is ever echoed in a message.
 */
static bool is_scheme(const char *s, size_t n)
{
	if (n == 0 || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+.-", s[i]))
			return false;
	return true;
}

int gw_url_parse(const char *text, struct gw_url *url, struct gw_error *err)
{
	const char *sep, *auth, *auth_end, *at, *path, *query;
	size_t slen;
	char scheme[32];
	int rc = 0;

	sep = text ? strstr(text, "://") : NULL;
	if (!sep || !is_scheme(text, (size_t)(sep - text)) ||
	    (size_t)(sep - text) >= sizeof(scheme)) {
		rc = gw_error_set(err, GW_ERR_URL, "bad database url: expected scheme://...");
		gw_error_hint(err, "for example postgresql://user@host/db or mysql://user@host/db");
		goto out;
	}
	/* SQLAlchemy's "postgresql+asyncpg": the driver suffix is ignored. */
	slen = strcspn(text, "+:");
	for (size_t i = 0; i < slen; i++)
		scheme[i] = (char)tolower((unsigned char)text[i]);
	scheme[slen] = '\0';
	for (size_t i = 0; i < GW_ARRAY_SIZE(schemes); i++)
		if (strcmp(scheme, schemes[i].scheme) == 0)
			url->engine = gw_strdup(schemes[i].engine);
	if (!url->engine) {
		rc = gw_error_set(err, GW_ERR_URL, "bad database url: unknown scheme '%s'", scheme);
		gw_error_hint(err, "use postgres://, postgresql://, mysql:// or mariadb://");
		goto out;
	}

	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?");
	/* The password may contain '@' when not escaped: the last '@' ends userinfo. */
	at = NULL;
	for (const char *p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		size_t ulen = colon ? (size_t)(colon - auth) : (size_t)(at - auth);

		if (ulen > 0 && (rc = decode_field(auth, ulen, &url->user, "user", err)) < 0)
			goto out;
		if (colon && (rc = decode_field(colon + 1, (size_t)(at - colon - 1), &url->password,
					       "password", err)) < 0)
			goto out;
		auth = at + 1;
	}
	rc = parse_hostport(auth, (size_t)(auth_end - auth), url, err);
	if (rc < 0)
		goto out;

	path = auth_end;
	query = strchr(path, '?');
	if (*path == '/') {
		size_t plen = query ? (size_t)(query - path - 1) : strlen(path + 1);

		if (plen > 0 && (rc = decode_field(path + 1, plen, &url->database, "database",
						   err)) < 0)
			goto out;
	}
	if (query)
		rc = parse_query(query + 1, url, err);
out:
	if (rc < 0)
		gw_url_release(url);
	return rc;
}

void gw_url_release(struct gw_url *url)
{
	free(url->engine);
	free(url->user);
	free(url->password);
	free(url->host);
	free(url->database);
	for (int i = 0; i < url->nopts; i++) {
		free(url->keys[i]);
		free(url->values[i]);
	}
	free(url->keys);
	free(url->values);
	memset(url, 0, sizeof(*url));
}

const char *gw_url_option(const struct gw_url *url, const char *key)
{
	for (int i = 0; i < url->nopts; i++)
		if (strcmp(url->keys[i], key) == 0)
			return url->values[i];
	return NULL;
}

static bool is_secret_key(const char *k, size_t n)
{
	return (n == 8 && strncasecmp(k, "password", 8) == 0) ||
	       (n == 6 && strncasecmp(k, "passwd", 6) == 0);
}

char *gw_url_redact(const char *text)
{
	struct gw_buf b = GW_BUF_INIT;
	const char *sep, *auth, *auth_end, *at = NULL, *q;

	if (!text)
		return gw_strdup("");
	sep = strstr(text, "://");
	if (!sep)
		return gw_strdup(text);
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?");
	for (const char *p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at && memchr(auth, ':', (size_t)(at - auth))) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));

		gw_buf_put(&b, text, (size_t)(colon - text) + 1);
		gw_buf_puts(&b, "****");
		gw_buf_put(&b, at, (size_t)(auth_end - at));
	} else {
		gw_buf_put(&b, text, (size_t)(auth_end - text));
	}
	q = strchr(auth_end, '?');
	if (!q) {
		gw_buf_puts(&b, auth_end);
		return gw_buf_detach(&b);
	}
	gw_buf_put(&b, auth_end, (size_t)(q - auth_end));
	/* Query options named password=... are secrets too. */
	while (*q) {
		size_t len = strcspn(q + 1, "&") + 1;
		const char *eq = memchr(q + 1, '=', len - 1);

		if (eq && is_secret_key(q + 1, (size_t)(eq - q - 1))) {
			gw_buf_put(&b, q, (size_t)(eq - q) + 1);
			gw_buf_puts(&b, "****");
		} else {
			gw_buf_put(&b, q, len);
		}
		q += len;
	}
	return gw_buf_detach(&b);
}
