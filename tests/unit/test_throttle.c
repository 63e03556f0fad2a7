/*
 * The throttle's pure parts (copier/throttle.c): replica URLs borrowing
 * the primary's credentials and database, and the limits in force.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "godwit/throttle.h"

static void expect_url(const char *primary, const char *replica, const char *want)
{
	char *got = gw_throttle_replica_url(primary, replica);

	assert_string_equal(got, want);
	free(got);
}

static void test_replica_url(void **state)
{
	const char *p = "mysql://app:s%40cret@db1:3306/shop?ssl_mode=REQUIRED";

	(void)state;
	expect_url(p, "mysql://db2:3306", "mysql://app:s%40cret@db2:3306/shop");
	expect_url(p, "mysql://db2:3306/", "mysql://app:s%40cret@db2:3306/shop");
	expect_url(p, "mysql://db2/other", "mysql://app:s%40cret@db2/other");
	expect_url(p, "mysql://ro:pw@db2:3306", "mysql://ro:pw@db2:3306/shop");
	expect_url(p, "mysql://db2:3306/?connect_timeout=2",
		   "mysql://app:s%40cret@db2:3306/shop?connect_timeout=2");
	expect_url("postgresql://u@h/app", "postgres://standby:5433",
		   "postgres://u@standby:5433/app");
	expect_url("postgresql://h/app", "postgres://standby", "postgres://standby/app");
}

static void test_limits(void **state)
{
	struct gw_options o = {.chunk_time_ms = 0, .max_rate_rows = 5000, .max_lag_ms = 1500};
	struct gw_limits live = GW_LIMITS_UNSET, l;

	(void)state;
	gw_throttle_limits(&o, &live, &l);
	assert_int_equal(l.rate, 5000);
	assert_int_equal(l.chunk_time_ms, 500);   /* the default */
	assert_int_equal(l.max_lag_ms, 1500);
	assert_int_equal(l.max_load, 0);
	/* an operator's limits win, and 0 lifts one */
	live.rate = 0;
	live.chunk_time_ms = 80;
	live.max_load = 30;
	gw_throttle_limits(&o, &live, &l);
	assert_int_equal(l.rate, 0);
	assert_int_equal(l.chunk_time_ms, 80);
	assert_int_equal(l.max_lag_ms, 1500);
	assert_int_equal(l.max_load, 30);
	assert_string_equal(gw_throttle_kind_name(GW_THROTTLE_LAG), "lag");
	assert_null(gw_throttle_kind_name(GW_THROTTLE_NONE));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replica_url),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
