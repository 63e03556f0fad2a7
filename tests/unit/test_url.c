/*
 * Database URLs: parsing every accepted scheme, percent-decoding, hosts,
 * query options, error messages that never show the password, redaction.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/url.h"

/* Case-insensitive strstr: a lower-cased password is still a leak. */
static bool contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] &&
		       tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return n == 0;
}

static void parse_ok(const char *text, struct gw_url *url)
{
	struct gw_error err = GW_ERROR_INIT;
	int rc = gw_url_parse(text, url, &err);

	if (rc != 0)
		print_error("parsing '%s': %s\n", text, err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
}

/* NULL-aware string comparison for the optional fields. */
#define assert_field(got, want)                              \
	do {                                                 \
		if ((want) == NULL)                          \
			assert_null(got);                    \
		else                                         \
			assert_non_null(got);                \
		if ((want) != NULL)                          \
			assert_string_equal((got), (want));  \
	} while (0)

static void expect_url(const char *text, const char *engine, const char *user,
		       const char *password, const char *host, int port, const char *database,
		       int nopts)
{
	struct gw_url url = GW_URL_INIT;

	parse_ok(text, &url);
	assert_string_equal(url.engine, engine);
	assert_field(url.user, user);
	assert_field(url.password, password);
	assert_field(url.host, host);
	assert_int_equal(url.port, port);
	assert_field(url.database, database);
	assert_int_equal(url.nopts, nopts);
	gw_url_release(&url);
}

static void test_schemes(void **state)
{
	static const struct {
		const char *scheme;
		const char *engine;
	} cases[] = {
		{"postgres", "postgres"},
		{"postgresql", "postgres"},
		{"mysql", "mysql"},
		{"mariadb", "mysql"},
		{"postgresql+asyncpg", "postgres"},
		{"postgresql+psycopg2", "postgres"},
		{"postgres+psycopg", "postgres"},
		{"mysql+aiomysql", "mysql"},
		{"mysql+pymysql", "mysql"},
		{"mysql+mysqldb", "mysql"},
		{"mariadb+mariadbconnector", "mysql"},
		{"POSTGRESQL", "postgres"},
		{"MySQL+PyMySQL", "mysql"},
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(cases); i++) {
		char *text = gw_asprintf("%s://alice:pw@db.example.com:6543/app", cases[i].scheme);

		expect_url(text, cases[i].engine, "alice", "pw", "db.example.com", 6543, "app", 0);
		free(text);
	}
}

static void test_optional_parts(void **state)
{
	(void)state;
	expect_url("postgres://h", "postgres", NULL, NULL, "h", 0, NULL, 0);
	expect_url("postgres://h/", "postgres", NULL, NULL, "h", 0, NULL, 0);
	expect_url("mysql://root@127.0.0.1/shop", "mysql", "root", NULL, "127.0.0.1", 0, "shop", 0);
	expect_url("mysql://root@localhost:3307", "mysql", "root", NULL, "localhost", 3307, NULL,
		   0);
	/* An empty password is present but empty; an empty user is absent. */
	expect_url("mysql://root:@h/d", "mysql", "root", "", "h", 0, "d", 0);
	expect_url("postgres://:pw@h/d", "postgres", NULL, "pw", "h", 0, "d", 0);
	expect_url("postgres://h:1/d", "postgres", NULL, NULL, "h", 1, "d", 0);
	expect_url("postgres://h:65535/d", "postgres", NULL, NULL, "h", 65535, "d", 0);
	expect_url("postgres://h:05432/d", "postgres", NULL, NULL, "h", 5432, "d", 0);
	expect_url("postgres://", "postgres", NULL, NULL, NULL, 0, NULL, 0);
	/* Everything after the first '/' is the database name. */
	expect_url("postgres://h/a/b", "postgres", NULL, NULL, "h", 0, "a/b", 0);
}

static void test_percent_decoding(void **state)
{
	(void)state;
	expect_url("postgresql://bob%40corp:p%40ss%3Aw%2Fo%3Fr%23d%25@h:5432/my%20db",
		   "postgres", "bob@corp", "p@ss:w/o?r#d%", "h", 5432, "my db", 0);
	/* Upper and lower case hex digits. */
	expect_url("mysql://u%3a%3A:%2f%2F@h/%41%62", "mysql", "u::", "//", "h", 0, "Ab", 0);
	/* A '+' is literal, not a space. */
	expect_url("mysql://u:a+b@h/x+y", "mysql", "u", "a+b", "h", 0, "x+y", 0);
	/* UTF-8 bytes come through. */
	expect_url("postgres://h/caf%C3%A9", "postgres", NULL, NULL, "h", 0, "caf\xC3\xA9", 0);
	/* libpq's URI form of a socket directory. */
	expect_url("postgresql://%2Fvar%2Frun%2Fpostgresql/app", "postgres", NULL, NULL,
		   "/var/run/postgresql", 0, "app", 0);
}

static void test_unescaped_password(void **state)
{
	(void)state;
	/* The last '@' ends the userinfo; the first ':' ends the user. */
	expect_url("mysql://u:p@ss@h:3306/db", "mysql", "u", "p@ss", "h", 3306, "db", 0);
	expect_url("mysql://u:a@b@c@h/db", "mysql", "u", "a@b@c", "h", 0, "db", 0);
	expect_url("postgres://u:a:b:c@h/db", "postgres", "u", "a:b:c", "h", 0, "db", 0);
	expect_url("postgres://u:@@h/db", "postgres", "u", "@", "h", 0, "db", 0);
	/* '@' after the path is part of the path, not userinfo. */
	expect_url("postgres://h/db@x", "postgres", NULL, NULL, "h", 0, "db@x", 0);
}

static void test_ipv6(void **state)
{
	(void)state;
	expect_url("postgres://[::1]:5432/db", "postgres", NULL, NULL, "::1", 5432, "db", 0);
	expect_url("postgres://u:pw@[::1]:5432/db", "postgres", "u", "pw", "::1", 5432, "db", 0);
	expect_url("mysql://[2001:db8::7]/db", "mysql", NULL, NULL, "2001:db8::7", 0, "db", 0);
	expect_url("mysql://[::1]", "mysql", NULL, NULL, "::1", 0, NULL, 0);
	/* A zone id is percent-encoded inside the brackets (RFC 6874). */
	expect_url("postgres://[fe80::1%25eth0]:5433/db", "postgres", NULL, NULL, "fe80::1%eth0",
		   5433, "db", 0);
}

static void test_no_host(void **state)
{
	struct gw_url url = GW_URL_INIT;

	(void)state;
	parse_ok("postgresql:///app?host=/var/run/postgresql", &url);
	assert_string_equal(url.engine, "postgres");
	assert_null(url.host);
	assert_int_equal(url.port, 0);
	assert_null(url.user);
	assert_string_equal(url.database, "app");
	assert_int_equal(url.nopts, 1);
	assert_string_equal(gw_url_option(&url, "host"), "/var/run/postgresql");
	gw_url_release(&url);

	parse_ok("mysql://app:pw@/shop?unix_socket=/tmp/m.sock", &url);
	assert_string_equal(url.engine, "mysql");
	assert_null(url.host);
	assert_int_equal(url.port, 0);
	assert_string_equal(url.user, "app");
	assert_string_equal(url.password, "pw");
	assert_string_equal(url.database, "shop");
	assert_string_equal(gw_url_option(&url, "unix_socket"), "/tmp/m.sock");
	gw_url_release(&url);

	parse_ok("mariadb+mariadbconnector://app@/shop?unix_socket=%2Ftmp%2Fm%20x.sock", &url);
	assert_null(url.host);
	assert_string_equal(gw_url_option(&url, "unix_socket"), "/tmp/m x.sock");
	gw_url_release(&url);

	/* A port without a host. */
	expect_url("postgres://u@:5433/db", "postgres", "u", NULL, NULL, 5433, "db", 0);
}

static void test_query_options(void **state)
{
	static const char *const keys[] = {"sslmode", "connect_timeout", "flag", "options",
					    "application_name", "empty", "ssl mode"};
	static const char *const values[] = {"require", "10", "", "-c x=y", "my app", "", "a&b"};
	struct gw_url url = GW_URL_INIT;

	(void)state;
	parse_ok("postgresql+psycopg2://u:pw@h:5432/db?sslmode=require&connect_timeout=10&flag"
		 "&options=-c%20x=y&application_name=my%20app&empty=&ssl%20mode=a%26b",
		 &url);
	assert_string_equal(url.database, "db");
	assert_int_equal(url.nopts, (int)GW_ARRAY_SIZE(keys));
	for (size_t i = 0; i < GW_ARRAY_SIZE(keys); i++) {
		assert_string_equal(url.keys[i], keys[i]);
		assert_string_equal(url.values[i], values[i]);
		assert_string_equal(gw_url_option(&url, keys[i]), values[i]);
	}
	assert_null(gw_url_option(&url, "SSLMODE"));
	assert_null(gw_url_option(&url, "missing"));
	assert_null(gw_url_option(&url, "ssl"));
	gw_url_release(&url);

	/* Empty segments are skipped; no database before the '?'. */
	parse_ok("mysql+aiomysql://h?&charset=utf8mb4&&ssl=1&", &url);
	assert_string_equal(url.host, "h");
	assert_null(url.database);
	assert_int_equal(url.nopts, 2);
	assert_string_equal(url.keys[0], "charset");
	assert_string_equal(url.values[0], "utf8mb4");
	assert_string_equal(url.keys[1], "ssl");
	assert_string_equal(url.values[1], "1");
	gw_url_release(&url);

	parse_ok("postgres://h/?x=1", &url);
	assert_null(url.database);
	assert_int_equal(url.nopts, 1);
	assert_string_equal(gw_url_option(&url, "x"), "1");
	gw_url_release(&url);

	parse_ok("postgres://h/db?", &url);
	assert_string_equal(url.database, "db");
	assert_int_equal(url.nopts, 0);
	assert_null(gw_url_option(&url, "x"));
	gw_url_release(&url);
}

static void test_multi_host(void **state)
{
	struct gw_url url = GW_URL_INIT;

	(void)state;
	/* libpq's multi-host form goes through whole; no single port. */
	parse_ok("postgres://u:pw@h1:5432,h2:5433/db?target_session_attrs=read-write", &url);
	assert_string_equal(url.host, "h1:5432,h2:5433");
	assert_int_equal(url.port, 0);
	assert_string_equal(url.user, "u");
	assert_string_equal(url.password, "pw");
	assert_string_equal(url.database, "db");
	assert_string_equal(gw_url_option(&url, "target_session_attrs"), "read-write");
	gw_url_release(&url);

	expect_url("postgresql://h1,h2,h3/db", "postgres", NULL, NULL, "h1,h2,h3", 0, "db", 0);
}

/*
 * text must fail with GW_ERR_URL, a message containing want, and neither
 * message nor hint containing secret (any case); url is left released.
 */
static void expect_error(const char *text, const char *want, const char *secret)
{
	struct gw_url url = GW_URL_INIT;
	struct gw_error err = GW_ERROR_INIT;
	int rc = gw_url_parse(text, &url, &err);

	if (rc != GW_ERR_URL || !strstr(err.msg, want))
		print_error("parsing '%s': rc %d, message '%s', wanted '%s'\n",
			    text ? text : "(null)", rc, err.msg, want);
	assert_int_equal(rc, GW_ERR_URL);
	assert_int_equal(err.code, GW_ERR_URL);
	assert_non_null(strstr(err.msg, want));
	assert_true(strncmp(err.msg, "bad database url: ", 18) == 0);
	assert_null(strchr(err.msg, '\n'));
	if (secret) {
		if (contains_ci(err.msg, secret) || contains_ci(err.hint, secret))
			print_error("'%s' leaks the password: '%s' / '%s'\n", text, err.msg,
				    err.hint);
		assert_false(contains_ci(err.msg, secret));
		assert_false(contains_ci(err.hint, secret));
	}
	assert_null(url.engine);
	assert_null(url.user);
	assert_null(url.password);
	assert_null(url.host);
	assert_null(url.database);
	assert_int_equal(url.port, 0);
	assert_int_equal(url.nopts, 0);
	assert_null(url.keys);
	assert_null(url.values);
	/* NULL err is allowed and gives the same code. */
	assert_int_equal(gw_url_parse(text, &url, NULL), GW_ERR_URL);
	assert_null(url.engine);
}

static void test_error_scheme(void **state)
{
	struct gw_error err = GW_ERROR_INIT;
	struct gw_url url = GW_URL_INIT;

	(void)state;
	expect_error(NULL, "expected scheme://", NULL);
	expect_error("", "expected scheme://", NULL);
	expect_error("localhost/db", "expected scheme://", NULL);
	expect_error("u:S3cretPW@h/db", "expected scheme://", "S3cretPW");
	expect_error("://u:S3cretPW@h/db", "expected scheme://", "S3cretPW");
	expect_error("postgres:/u:S3cretPW@h/db", "expected scheme://", "S3cretPW");
	/* A "://" further on must not turn the text before it into a "scheme". */
	expect_error("h/db?password=S3cretPW&ref=x://y", "expected scheme://", "S3cretPW");
	expect_error("S3cretPW@h://", "expected scheme://", "S3cretPW");
	expect_error("1mysql://h/db", "expected scheme://", NULL);
	expect_error("averyveryveryveryverylongschemename://h", "expected scheme://", NULL);

	expect_error("oracle://u:S3cretPW@h/db", "unknown scheme 'oracle'", "S3cretPW");
	expect_error("sqlite+pysqlite://u:S3cretPW@h/db", "unknown scheme 'sqlite'", "S3cretPW");
	expect_error("pg://h/db", "unknown scheme 'pg'", NULL);
	expect_error("postgresq://h/db", "unknown scheme 'postgresq'", NULL);
	expect_error("mysqlx://h/db", "unknown scheme 'mysqlx'", NULL);
	expect_error("+mysql://h/db", "expected scheme://", NULL);

	/* The hint gives an example for a missing scheme. */
	assert_int_equal(gw_url_parse("nourl", &url, &err), GW_ERR_URL);
	assert_string_equal(err.msg, "bad database url: expected scheme://...");
	assert_string_equal(err.hint,
			    "for example postgresql://user@host/db or mysql://user@host/db");
	gw_error_clear(&err);
	assert_int_equal(gw_url_parse("redis://h", &url, &err), GW_ERR_URL);
	assert_string_equal(err.msg, "bad database url: unknown scheme 'redis'");
	assert_string_equal(err.hint, "use postgres://, postgresql://, mysql:// or mariadb://");
}

static void test_error_port(void **state)
{
	(void)state;
	expect_error("mysql://u:S3cretPW@h:notaport/db", "port is not a number", "S3cretPW");
	expect_error("mysql://u:S3cretPW@h:54a/db", "port is not a number", "S3cretPW");
	expect_error("mysql://u:S3cretPW@h:-1/db", "port is not a number", "S3cretPW");
	expect_error("mysql://u:S3cretPW@h: 80/db", "port is not a number", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h:0/db", "port out of range", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h:70000/db", "port out of range", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h:65536/db", "port out of range", "S3cretPW");
	expect_error("postgres://h:99999999999999999999999/db", "port out of range", NULL);
	expect_error("postgres://u:S3cretPW@h:/db", "empty port", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h:?sslmode=require", "empty port", "S3cretPW");
	expect_error("postgres://u:S3cretPW@[::1]:/db", "empty port", "S3cretPW");
	expect_error("postgres://u:S3cretPW@[::1]:x/db", "port is not a number", "S3cretPW");
	/* An unescaped '/' hides the '@': the password's start reads as a port. */
	expect_error("mysql://u:70000/pw@h/db", "port out of range", "70000");
	expect_error("mysql://u:S3cretPW/x@h/db", "port is not a number", "S3cretPW");
}

static void test_error_escape(void **state)
{
	(void)state;
	expect_error("postgres://u:S3cret%zzPW@h/db", "malformed %-escape in password", "S3cret");
	expect_error("postgres://u:S3cretPW%@h/db", "malformed %-escape in password", "S3cretPW");
	expect_error("postgres://u:S3cretPW%4@h/db", "malformed %-escape in password",
		     "S3cretPW");
	expect_error("postgres://u%g1:S3cretPW@h/db", "malformed %-escape in user", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h%/db", "malformed %-escape in host", "S3cretPW");
	expect_error("postgres://u:S3cretPW@[fe80::1%eth0]/db", "malformed %-escape in host",
		     "S3cretPW");
	expect_error("postgres://u:S3cretPW@h/d%2", "malformed %-escape in database", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h/d%", "malformed %-escape in database", "S3cretPW");
	expect_error("postgres://u:S3cretPW@h/db?a%=1", "malformed %-escape in query option",
		     "S3cretPW");
	expect_error("postgres://u@h/db?password=S3cret%xPW", "malformed %-escape in query option",
		     "S3cret");
	expect_error("postgres://u@h/db?a=1&b=%", "malformed %-escape in query option", NULL);
	/* %00 would silently shorten the C string. */
	expect_error("postgres://u:S3cret%00PW@h/db", "malformed %-escape in password", "S3cret");
	expect_error("postgres://h/db%00x", "malformed %-escape in database", NULL);
}

static void test_error_brackets(void **state)
{
	(void)state;
	expect_error("postgres://u:S3cretPW@[::1:5432/db", "unclosed '[' in host", "S3cretPW");
	expect_error("postgres://[::1", "unclosed '[' in host", NULL);
	expect_error("postgres://u:S3cretPW@[::1]5432/db", "unexpected text after ']'",
		     "S3cretPW");
}

static void test_release(void **state)
{
	struct gw_url url = GW_URL_INIT;

	(void)state;
	/* Releasing an initialised or released url is a no-op; reuse works. */
	gw_url_release(&url);
	parse_ok("mysql://u:pw@h:1/d?a=b", &url);
	gw_url_release(&url);
	assert_null(url.engine);
	assert_null(url.keys);
	assert_int_equal(url.nopts, 0);
	gw_url_release(&url);
	parse_ok("postgres://h", &url);
	assert_string_equal(url.engine, "postgres");
	gw_url_release(&url);
}

static void expect_redact(const char *text, const char *want)
{
	char *got = gw_url_redact(text);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_redact(void **state)
{
	(void)state;
	expect_redact("postgres://u:S3cretPW@h:5432/db", "postgres://u:****@h:5432/db");
	expect_redact("postgresql+asyncpg://u:S3cretPW@h/db?sslmode=require",
		      "postgresql+asyncpg://u:****@h/db?sslmode=require");
	expect_redact("mysql://u:p@ss@h/db", "mysql://u:****@h/db");
	expect_redact("mysql://u:a:b@h", "mysql://u:****@h");
	expect_redact("mysql://u:p%40ss@[::1]:3306/db", "mysql://u:****@[::1]:3306/db");
	expect_redact("mysql://:S3cretPW@h/db", "mysql://:****@h/db");
	expect_redact("mysql://u:@h/db", "mysql://u:****@h/db");

	/* Query options password= and passwd=, any case. */
	expect_redact("postgres://u@h/db?password=S3cretPW", "postgres://u@h/db?password=****");
	expect_redact("mysql://u@h/db?sslmode=require&passwd=S3cretPW&x=1",
		      "mysql://u@h/db?sslmode=require&passwd=****&x=1");
	expect_redact("postgres://u:a@h/db?PASSWORD=b&Passwd=c&password=",
		      "postgres://u:****@h/db?PASSWORD=****&Passwd=****&password=****");
	expect_redact("postgres://h/db?mypassword=x&password_file=y&password",
		      "postgres://h/db?mypassword=x&password_file=y&password");
	expect_redact("postgres://h?password=S3cretPW", "postgres://h?password=****");

	/* Nothing to hide: unchanged. */
	expect_redact("postgres://u@h:5432/db?sslmode=require",
		      "postgres://u@h:5432/db?sslmode=require");
	expect_redact("postgres://h1:5432,h2:5433/db", "postgres://h1:5432,h2:5433/db");
	expect_redact("mysql://[::1]:3306/db", "mysql://[::1]:3306/db");
	expect_redact("mysql:///db?unix_socket=/tmp/m.sock", "mysql:///db?unix_socket=/tmp/m.sock");
	expect_redact("postgres://h/a:b@c", "postgres://h/a:b@c");
	expect_redact("host=h user=u dbname=d", "host=h user=u dbname=d");
	expect_redact("", "");
	expect_redact(NULL, "");
}

/* Whatever parses, its redacted form no longer shows the password. */
static void test_redact_hides_parsed_password(void **state)
{
	static const char *const urls[] = {
		"postgres://u:S3cretPW@h/db",
		"mysql://u:S3cret@PW@h/db",
		"mysql://u:S3cret%2FPW@h/db",
		"postgresql+psycopg2://u:S3cretPW@[::1]:5432/db?sslmode=require",
		"mariadb://u:S3cretPW@/db?unix_socket=/tmp/m.sock",
		"postgres://u:S3cretPW@h1:5432,h2:5433/db",
	};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(urls); i++) {
		struct gw_url url = GW_URL_INIT;
		char *red;

		parse_ok(urls[i], &url);
		assert_non_null(url.password);
		red = gw_url_redact(urls[i]);
		assert_null(strstr(red, url.password));
		assert_null(strstr(red, "S3cret"));
		assert_non_null(strstr(red, ":****@"));
		free(red);
		gw_url_release(&url);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schemes),
		cmocka_unit_test(test_optional_parts),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_unescaped_password),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_no_host),
		cmocka_unit_test(test_query_options),
		cmocka_unit_test(test_multi_host),
		cmocka_unit_test(test_error_scheme),
		cmocka_unit_test(test_error_port),
		cmocka_unit_test(test_error_escape),
		cmocka_unit_test(test_error_brackets),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_redact_hides_parsed_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
