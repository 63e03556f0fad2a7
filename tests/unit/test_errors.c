/*
 * Error codes: gw_strerror() and gw_exit_code() cover every code,
 * docs/errors.md documents every code, and the gw_error record keeps the
 * first error.
 */
#include <ctype.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "godwit/buf.h"
#include "godwit/common.h"

/*
 * Every code with its name and exit status (SPEC section 7: 0 done, 1
 * runtime failure, 2 bad input or usage, 3 locked, 4 stopped). A code
 * appended to enum gw_err without a row here fails test_table_complete.
 */
#define E(code, exit_status) {code, #code, exit_status}
static const struct {
	int code;
	const char *name;
	int exit_status;
} codes[] = {
	E(GW_OK, 0),
	E(GW_ERR_NOMEM, 1),
	E(GW_ERR_USAGE, 2),
	E(GW_ERR_INPUT, 2),
	E(GW_ERR_IO, 1),
	E(GW_ERR_URL, 2),
	E(GW_ERR_CONNECT, 1),
	E(GW_ERR_DB, 1),
	E(GW_ERR_DB_RETRY, 1),
	E(GW_ERR_DB_LOCK_TIMEOUT, 1),
	E(GW_ERR_DB_DUPLICATE, 1),
	E(GW_ERR_DB_UNDEFINED, 1),
	E(GW_ERR_LOCKED, 3),
	E(GW_ERR_CHECKSUM, 2),
	E(GW_ERR_GRAPH, 2),
	E(GW_ERR_STATE, 2),
	E(GW_ERR_UNSUPPORTED, 2),
	E(GW_ERR_NO_INVERSE, 2),
	E(GW_ERR_INTERRUPTED, 4),
	E(GW_ERR_DB_EXISTS, 1),
};
#undef E

#define NCODES (-GW_ERR_LAST + 1)

static int row_of(int code)
{
	for (size_t i = 0; i < GW_ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return (int)i;
	return -1;
}

static void test_table_complete(void **state)
{
	(void)state;
	/* Codes are dense from GW_OK down to GW_ERR_LAST, one row each. */
	assert_int_equal(GW_ARRAY_SIZE(codes), NCODES);
	for (int code = GW_OK; code >= GW_ERR_LAST; code--) {
		int i = row_of(code);

		if (i < 0)
			print_error("code %d has no row in the test table\n", code);
		assert_true(i >= 0);
		assert_int_equal(codes[i].code, code);
	}
	/* GW_ERR_LAST really is the last code gw_strerror() knows. */
	assert_string_equal(gw_strerror(GW_ERR_LAST - 1), "unknown error");
}

static void test_strerror(void **state)
{
	(void)state;
	for (int code = GW_OK; code >= GW_ERR_LAST; code--) {
		const char *text = gw_strerror(code);
		size_t n;

		assert_non_null(text);
		n = strlen(text);
		if (n == 0 || strcmp(text, "unknown error") == 0)
			print_error("code %d (%s) has no text\n", code, codes[row_of(code)].name);
		assert_true(n > 0);
		assert_string_not_equal(text, "unknown error");
		/* Message style: lower case, no trailing period or newline. */
		assert_false(isupper((unsigned char)text[0]));
		assert_true(text[n - 1] != '.');
		assert_null(strchr(text, '\n'));
		/* Distinct codes read differently. */
		for (int other = code - 1; other >= GW_ERR_LAST; other--)
			assert_string_not_equal(text, gw_strerror(other));
	}
	assert_string_equal(gw_strerror(GW_OK), "success");
	assert_string_equal(gw_strerror(GW_ERR_URL), "bad database url");
	assert_string_equal(gw_strerror(GW_ERR_LOCKED), "another runner holds the lock");
	assert_string_equal(gw_strerror(GW_ERR_INTERRUPTED), "interrupted");
}

static void test_strerror_unknown(void **state)
{
	static const int unknown[] = {1, 2, 100, GW_ERR_LAST - 1, -100, INT_MIN, INT_MAX};

	(void)state;
	for (size_t i = 0; i < GW_ARRAY_SIZE(unknown); i++) {
		assert_string_equal(gw_strerror(unknown[i]), "unknown error");
		/* An unknown code is still a failure, never success. */
		assert_int_equal(gw_exit_code(unknown[i]), 1);
	}
}

static void test_exit_code(void **state)
{
	(void)state;
	for (int code = GW_OK; code >= GW_ERR_LAST; code--) {
		int i = row_of(code);
		int got = gw_exit_code(code);

		if (got != codes[i].exit_status)
			print_error("%s: exit %d, want %d\n", codes[i].name, got,
				    codes[i].exit_status);
		assert_int_equal(got, codes[i].exit_status);
		assert_in_range(got, 0, 4);
		/* Only success exits 0. */
		assert_true((got == 0) == (code == GW_OK));
	}
	assert_int_equal(gw_exit_code(GW_OK), 0);
	assert_int_equal(gw_exit_code(GW_ERR_USAGE), 2);
	assert_int_equal(gw_exit_code(GW_ERR_INPUT), 2);
	assert_int_equal(gw_exit_code(GW_ERR_URL), 2);
	assert_int_equal(gw_exit_code(GW_ERR_LOCKED), 3);
	assert_int_equal(gw_exit_code(GW_ERR_INTERRUPTED), 4);
	assert_int_equal(gw_exit_code(GW_ERR_DB_RETRY), 1);
	assert_int_equal(gw_exit_code(GW_ERR_CONNECT), 1);
}

/* New contents of $GW_SOURCE_DIR/docs/errors.md. */
static char *read_errors_md(void)
{
	const char *dir = getenv("GW_SOURCE_DIR");
	struct gw_buf b = GW_BUF_INIT;
	char *path;
	FILE *f;
	char chunk[4096];
	size_t n;

	if (!dir)
		print_error("GW_SOURCE_DIR is not set (ctest sets it)\n");
	assert_non_null(dir);
	path = gw_asprintf("%s/docs/errors.md", dir);
	f = fopen(path, "r");
	if (!f)
		print_error("could not open '%s'\n", path);
	free(path);
	assert_non_null(f);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		gw_buf_put(&b, chunk, n);
	fclose(f);
	return gw_buf_detach(&b);
}

#define MAXCELLS 8

/*
 * Split the markdown table row line[0..len) into trimmed cells (new
 * strings in cells[]); returns the count, 0 if the line is not a row.
 */
static int split_row(const char *line, size_t len, char **cells)
{
	const char *p = line, *end = line + len;
	int n = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p != '|')
		return 0;
	p++;
	while (p < end && n < MAXCELLS) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *s = p, *e;

		if (!bar)
			break;
		e = bar;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		cells[n++] = gw_strndup(s, (size_t)(e - s));
		p = bar + 1;
	}
	return n;
}

static void test_errors_md(void **state)
{
	char *doc = read_errors_md();
	int seen[NCODES] = {0};
	int rows = 0;

	(void)state;
	for (const char *line = doc; *line;) {
		size_t len = strcspn(line, "\n");
		char *cells[MAXCELLS];
		int n = split_row(line, len, cells);

		if (n >= 2 && strncmp(cells[1], "`GW_", 4) == 0) {
			/* | number | `NAME` | meaning | exit status | cause | */
			char *name = gw_strndup(cells[1] + 1, strlen(cells[1]) - 2);
			int i = -1;

			for (size_t k = 0; k < GW_ARRAY_SIZE(codes); k++)
				if (strcmp(codes[k].name, name) == 0)
					i = (int)k;
			if (i < 0)
				print_error("docs/errors.md: unknown code '%s'\n", cells[1]);
			assert_true(i >= 0);
			assert_int_equal(n, 5);
			assert_true(cells[1][strlen(cells[1]) - 1] == '`');
			{
				char *num = gw_asprintf("%d", codes[i].code);
				char *exit_status = gw_asprintf("%d", codes[i].exit_status);

				if (strcmp(cells[0], num) != 0)
					print_error("docs/errors.md: %s has number '%s', want %s\n",
						    name, cells[0], num);
				assert_string_equal(cells[0], num);
				assert_string_equal(cells[2], gw_strerror(codes[i].code));
				assert_string_equal(cells[3], exit_status);
				free(num);
				free(exit_status);
			}
			assert_true(strlen(cells[4]) > 0);
			seen[-codes[i].code]++;
			rows++;
			free(name);
		}
		for (int k = 0; k < n; k++)
			free(cells[k]);
		line += len;
		if (*line == '\n')
			line++;
	}
	for (int code = GW_OK; code >= GW_ERR_LAST; code--) {
		if (seen[-code] != 1)
			print_error("docs/errors.md: %s documented %d times\n",
				    codes[row_of(code)].name, seen[-code]);
		assert_int_equal(seen[-code], 1);
	}
	assert_int_equal(rows, NCODES);
	/* The exit statuses are explained, 0 to 4. */
	assert_non_null(strstr(doc, "\n## Exit statuses\n"));
	for (int s = 0; s <= 4; s++) {
		char *row = gw_asprintf("\n| %d | ", s);

		assert_non_null(strstr(strstr(doc, "\n## Exit statuses\n"), row));
		free(row);
	}
	free(doc);
}

static void test_error_set(void **state)
{
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
	assert_string_equal(err.hint, "");
	assert_string_equal(err.sqlstate, "");
	assert_int_equal(err.db_errno, 0);

	/* Returns the code and formats the message. */
	assert_int_equal(gw_error_set(&err, GW_ERR_IO, "could not open '%s': %s", "a.json",
				      "no such file"),
			 GW_ERR_IO);
	assert_int_equal(err.code, GW_ERR_IO);
	assert_string_equal(err.msg, "could not open 'a.json': no such file");

	/* The first error wins; a later call still returns its own code. */
	assert_int_equal(gw_error_set(&err, GW_ERR_DB, "later %d", 2), GW_ERR_DB);
	assert_int_equal(err.code, GW_ERR_IO);
	assert_string_equal(err.msg, "could not open 'a.json': no such file");

	/* NULL is allowed and still returns the code. */
	assert_int_equal(gw_error_set(NULL, GW_ERR_LOCKED, "held by %s", "h:1"), GW_ERR_LOCKED);
	gw_error_hint(NULL, "ignored %d", 1);
	gw_error_clear(NULL);

	/* Clearing makes room for a new error. */
	gw_error_clear(&err);
	assert_int_equal(err.code, 0);
	assert_string_equal(err.msg, "");
	assert_int_equal(gw_error_set(&err, GW_ERR_URL, "bad"), GW_ERR_URL);
	assert_int_equal(err.code, GW_ERR_URL);
	assert_string_equal(err.msg, "bad");
}

static void test_error_set_keeps_db_fields(void **state)
{
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	/* A driver fills sqlstate and errno; gw_error_set leaves them alone. */
	memcpy(err.sqlstate, "40P01", 6);
	err.db_errno = 1213;
	assert_int_equal(gw_error_set(&err, GW_ERR_DB_RETRY, "deadlock"), GW_ERR_DB_RETRY);
	assert_string_equal(err.sqlstate, "40P01");
	assert_int_equal(err.db_errno, 1213);
	assert_string_equal(err.msg, "deadlock");
}

static void test_error_set_truncates(void **state)
{
	struct gw_error err = GW_ERROR_INIT;
	char long_text[600];

	(void)state;
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_int_equal(gw_error_set(&err, GW_ERR_INPUT, "%s", long_text), GW_ERR_INPUT);
	assert_int_equal(strlen(err.msg), sizeof(err.msg) - 1);
	assert_int_equal(err.msg[0], 'x');
	gw_error_hint(&err, "%s", long_text);
	assert_int_equal(strlen(err.hint), sizeof(err.hint) - 1);
}

static void test_error_hint(void **state)
{
	struct gw_error err = GW_ERROR_INIT;

	(void)state;
	/* The first hint wins, whether or not an error is set yet. */
	gw_error_hint(&err, "run '%s'", "godwit init");
	assert_string_equal(err.hint, "run 'godwit init'");
	assert_int_equal(err.code, 0);
	gw_error_hint(&err, "something else");
	assert_string_equal(err.hint, "run 'godwit init'");
	assert_int_equal(gw_error_set(&err, GW_ERR_STATE, "state store not found"), GW_ERR_STATE);
	assert_string_equal(err.hint, "run 'godwit init'");
	assert_string_equal(err.msg, "state store not found");

	gw_error_clear(&err);
	assert_string_equal(err.hint, "");
	gw_error_hint(&err, "second");
	assert_string_equal(err.hint, "second");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_strerror_unknown),
		cmocka_unit_test(test_exit_code),
		cmocka_unit_test(test_errors_md),
		cmocka_unit_test(test_error_set),
		cmocka_unit_test(test_error_set_keeps_db_fields),
		cmocka_unit_test(test_error_set_truncates),
		cmocka_unit_test(test_error_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
