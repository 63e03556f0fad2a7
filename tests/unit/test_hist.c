/*
 * The load generator's latency histogram: bucket boundaries, the error
 * bound, nearest-rank quantiles, merging, the sparse JSON form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

/* splitmix64, the same small generator the tools use */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value spread evenly over the powers of two below 2^40. */
static uint64_t log_uniform(uint64_t *s)
{
	unsigned int e = (unsigned int)(next_rand(s) % GW_HIST_EXP);
	uint64_t base = UINT64_C(1) << e;

	return base + next_rand(s) % base;
}

static struct gw_hist *hist_new(void)
{
	struct gw_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	gw_hist_init(h);
	return h;
}

static void test_bucket_boundaries(void **state)
{
	(void)state;
	assert_int_equal(GW_HIST_BUCKETS, 1152);
	for (uint64_t v = 0; v < 64; v++) {
		/* below 64 every value has its own bucket */
		assert_int_equal(gw_hist_bucket(v), v);
		assert_int_equal(gw_hist_bucket_low((size_t)v), v);
		assert_int_equal(gw_hist_bucket_high((size_t)v), v);
	}
	assert_int_equal(gw_hist_bucket(64), 64);
	assert_int_equal(gw_hist_bucket(65), 64);
	assert_int_equal(gw_hist_bucket(66), 65);
	assert_int_equal(gw_hist_bucket_low(64), 64);
	assert_int_equal(gw_hist_bucket_high(64), 65);
	assert_int_equal(gw_hist_bucket_low(GW_HIST_BUCKETS - 1), UINT64_C(63) << 34);
	assert_int_equal(gw_hist_bucket_high(GW_HIST_BUCKETS - 1), GW_HIST_MAX_US);
	assert_int_equal(gw_hist_bucket(GW_HIST_MAX_US), GW_HIST_BUCKETS - 1);
	assert_int_equal(gw_hist_bucket(GW_HIST_MAX_US + 1), GW_HIST_BUCKETS - 1);
	assert_int_equal(gw_hist_bucket(UINT64_MAX), GW_HIST_BUCKETS - 1);
	assert_int_equal(gw_hist_bucket_low(0), 0);

	/* the buckets tile 0 .. GW_HIST_MAX_US without gap or overlap */
	for (size_t i = 0; i < GW_HIST_BUCKETS; i++) {
		uint64_t low = gw_hist_bucket_low(i), high = gw_hist_bucket_high(i);

		assert_true(low <= high);
		assert_int_equal(gw_hist_bucket(low), i);
		assert_int_equal(gw_hist_bucket(high), i);
		if (i + 1 < GW_HIST_BUCKETS)
			assert_int_equal(gw_hist_bucket_low(i + 1), high + 1);
		/* width at most 1/32 of the lower bound (1 below 64) */
		if (low >= 64)
			assert_true((high - low + 1) * 32 <= low);
	}

	/* monotonic around every power of two */
	for (unsigned int e = 1; e < 63; e++) {
		uint64_t p = UINT64_C(1) << e;

		assert_true(gw_hist_bucket(p - 1) <= gw_hist_bucket(p));
		assert_true(gw_hist_bucket(p) <= gw_hist_bucket(p + 1));
		if (e <= GW_HIST_EXP - 1 && e >= GW_HIST_SUB_BITS)
			assert_int_equal(gw_hist_bucket(p - 1) + 1, gw_hist_bucket(p));
	}
}

static void test_monotonic_random(void **state)
{
	uint64_t s = 42;

	(void)state;
	for (int k = 0; k < 100000; k++) {
		uint64_t a = log_uniform(&s), b = log_uniform(&s);

		if (a > b) {
			uint64_t t = a;

			a = b;
			b = t;
		}
		assert_true(gw_hist_bucket(a) <= gw_hist_bucket(b));
	}
}

static void test_error_bound(void **state)
{
	uint64_t s = 7;
	double worst = 0;

	(void)state;
	for (int k = 0; k < 200000; k++) {
		uint64_t v = log_uniform(&s);
		size_t b = gw_hist_bucket(v);
		uint64_t low = gw_hist_bucket_low(b), high = gw_hist_bucket_high(b);
		double rel = (double)(high - v) / (double)(v ? v : 1);

		assert_true(low <= v && v <= high);
		if (rel > worst)
			worst = rel;
	}
	assert_true(worst <= 1.0 / 32);
	assert_true(worst > 0.02); /* the bound is tight, not vacuous */
}

static void test_quantiles_uniform(void **state)
{
	struct gw_hist *h = hist_new();
	uint64_t p50, p95, p99;

	(void)state;
	for (uint64_t v = 1000; v >= 1; v--) /* order does not matter */
		gw_hist_add(h, v);
	assert_int_equal(h->n, 1000);
	assert_int_equal(h->max_us, 1000);
	p50 = gw_hist_quantile(h, 0.50);
	p95 = gw_hist_quantile(h, 0.95);
	p99 = gw_hist_quantile(h, 0.99);
	/* 500 lies in 496..503 (width 8 above 256) */
	assert_int_equal(p50, 503);
	assert_true(p95 >= 950 && (double)p95 <= 950 * (1 + 1.0 / 32));
	assert_true(p99 >= 990 && (double)p99 <= 990 * (1 + 1.0 / 32));
	/* 990's bucket 976..991 */
	assert_int_equal(p99, 991);
	/* the top bucket 992..1007 is cut at the exact maximum */
	assert_int_equal(gw_hist_quantile(h, 1.0), 1000);
	assert_int_equal(gw_hist_quantile(h, 0.999), 1000);
	assert_int_equal(gw_hist_quantile(h, 0.0), 1);
	assert_int_equal(gw_hist_quantile(h, 0.001), 1);
	assert_int_equal(gw_hist_quantile(h, 0.002), 2);
	free(h);
}

static void test_quantiles_nearest_rank(void **state)
{
	struct gw_hist *h = hist_new();

	(void)state;
	/* 99 fast statements and one stall: p99 is still fast, the max is not */
	for (int k = 0; k < 99; k++)
		gw_hist_add(h, 100);
	gw_hist_add(h, 2000000);
	assert_int_equal(gw_hist_quantile(h, 0.50), 101); /* 100..101 */
	assert_int_equal(gw_hist_quantile(h, 0.99), 101);
	assert_int_equal(gw_hist_quantile(h, 0.995), 2000000);
	assert_int_equal(gw_hist_quantile(h, 1.0), 2000000);

	/* one value: every quantile is that value, cut at the maximum */
	gw_hist_init(h);
	gw_hist_add(h, 12345);
	assert_int_equal(gw_hist_quantile(h, 0.0), 12345);
	assert_int_equal(gw_hist_quantile(h, 0.5), 12345);
	assert_int_equal(gw_hist_quantile(h, 1.0), 12345);

	/* exact below 64 us */
	gw_hist_init(h);
	for (uint64_t v = 1; v <= 10; v++)
		gw_hist_add(h, v);
	assert_int_equal(gw_hist_quantile(h, 0.5), 5);
	assert_int_equal(gw_hist_quantile(h, 0.9), 9);
	assert_int_equal(gw_hist_quantile(h, 0.95), 10);

	/* a value past the range keeps its exact maximum */
	gw_hist_init(h);
	gw_hist_add(h, GW_HIST_MAX_US + 12345);
	assert_int_equal(h->max_us, GW_HIST_MAX_US + 12345);
	assert_int_equal(gw_hist_quantile(h, 1.0), GW_HIST_MAX_US);
	free(h);
}

static void test_quantiles_random(void **state)
{
	enum { N = 5000 };
	struct gw_hist *h = hist_new();
	uint64_t *v = malloc(N * sizeof(*v));
	uint64_t s = 99;
	const unsigned int per_mille[] = {500, 900, 950, 990, 999};

	(void)state;
	assert_non_null(v);
	for (int k = 0; k < N; k++) {
		/* exponential-ish: most around 400 us, a long tail */
		v[k] = 200 + next_rand(&s) % 400;
		if (next_rand(&s) % 100 == 0)
			v[k] *= 1000;
		gw_hist_add(h, v[k]);
	}
	/* sort (insertion sort is enough for 5000) */
	for (int i = 1; i < N; i++) {
		uint64_t x = v[i];
		int j = i - 1;

		while (j >= 0 && v[j] > x) {
			v[j + 1] = v[j];
			j--;
		}
		v[j + 1] = x;
	}
	for (size_t k = 0; k < sizeof(per_mille) / sizeof(per_mille[0]); k++) {
		/* nearest rank: ceil(q * N), 1-based */
		size_t rank = (per_mille[k] * (size_t)N + 999) / 1000;
		uint64_t want = v[rank - 1], got = gw_hist_quantile(h, per_mille[k] / 1000.0);

		assert_true(got >= want);
		assert_true((double)got <= (double)want * (1 + 1.0 / 32));
	}
	assert_int_equal(gw_hist_quantile(h, 1.0), v[N - 1]);
	free(v);
	free(h);
}

static void test_merge(void **state)
{
	struct gw_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
	uint64_t s = 3;

	(void)state;
	for (int k = 0; k < 20000; k++) {
		uint64_t v = log_uniform(&s) >> (next_rand(&s) % 30);

		gw_hist_add(k % 3 ? a : b, v);
		gw_hist_add(all, v);
	}
	gw_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));

	/* merging an empty histogram changes nothing, into one copies */
	gw_hist_init(b);
	gw_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	gw_hist_merge(b, all);
	assert_memory_equal(b, all, sizeof(*b));
	free(a);
	free(b);
	free(all);
}

static void test_sparse_round_trip(void **state)
{
	struct gw_hist *h = hist_new(), *back = hist_new();
	struct gw_error err = GW_ERROR_INIT;
	uint64_t s = 11;
	json_t *a;
	char *text;

	(void)state;
	gw_hist_add(h, 3);
	gw_hist_add(h, 3);
	gw_hist_add(h, 40);
	gw_hist_add(h, 1000);
	a = gw_hist_to_json(h);
	text = json_dumps(a, JSON_COMPACT);
	/* 1000: e = 9, width 16, sub-bucket (1000 >> 4) - 32 = 30 */
	assert_string_equal(text, "[[3,2],[40,1],[190,1]]");
	free(text);
	assert_int_equal(gw_hist_from_json(back, a, &err), 0);
	assert_int_equal(back->n, 4);
	/* the maximum comes back as its bucket's top: 992..1007 */
	assert_int_equal(back->max_us, 1007);
	back->max_us = h->max_us;
	assert_memory_equal(back, h, sizeof(*h));
	json_decref(a);

	gw_hist_init(h);
	gw_hist_init(back);
	for (int k = 0; k < 50000; k++)
		gw_hist_add(h, log_uniform(&s));
	a = gw_hist_to_json(h);
	assert_int_equal(gw_hist_from_json(back, a, &err), 0);
	assert_int_equal(back->max_us, gw_hist_bucket_high(gw_hist_bucket(h->max_us)));
	back->max_us = h->max_us;
	assert_memory_equal(back, h, sizeof(*h));
	/* decoding adds: twice the same array doubles every count */
	assert_int_equal(gw_hist_from_json(back, a, &err), 0);
	assert_int_equal(back->n, 2 * h->n);
	json_decref(a);
	free(h);
	free(back);
}

static void expect_bad(const char *text, const char *msg_part)
{
	struct gw_hist *h = hist_new();
	struct gw_error err = GW_ERROR_INIT;
	json_error_t jerr;
	json_t *a = json_loads(text, JSON_DECODE_ANY, &jerr);

	assert_non_null(a);
	gw_hist_add(h, 5);
	assert_int_equal(gw_hist_from_json(h, a, &err), GW_ERR_INPUT);
	assert_int_equal(err.code, GW_ERR_INPUT);
	if (!strstr(err.msg, msg_part))
		print_error("'%s': message '%s' lacks '%s'\n", text, err.msg, msg_part);
	assert_non_null(strstr(err.msg, msg_part));
	/* unchanged, even when good pairs came before the bad one */
	assert_int_equal(h->n, 1);
	assert_int_equal(h->counts[5], 1);
	assert_int_equal(h->max_us, 5);
	json_decref(a);
	free(h);
}

static void test_sparse_bad(void **state)
{
	(void)state;
	expect_bad("{}", "not an array");
	expect_bad("3", "not an array");
	expect_bad("[[1]]", "entry 0 is not an [index, count] pair");
	expect_bad("[[1, 2], [1, 2, 3]]", "entry 1 is not");
	expect_bad("[7]", "entry 0 is not");
	expect_bad("[[\"1\", 2]]", "does not hold two integers");
	expect_bad("[[1, 2.5]]", "does not hold two integers");
	expect_bad("[[-1, 2]]", "bucket -1 out of range");
	expect_bad("[[2, 1], [1152, 2]]", "bucket 1152 out of range");
	expect_bad("[[1, 0]]", "count 0 is not positive");
	expect_bad("[[1, -4]]", "count -4 is not positive");
}

static void test_empty(void **state)
{
	struct gw_hist *h = hist_new(), *zero = calloc(1, sizeof(*zero));
	struct gw_error err = GW_ERROR_INIT;
	json_t *a;
	char *text;

	(void)state;
	assert_non_null(zero);
	assert_memory_equal(h, zero, sizeof(*h));
	assert_int_equal(h->n, 0);
	assert_int_equal(gw_hist_quantile(h, 0.5), 0);
	assert_int_equal(gw_hist_quantile(h, 1.0), 0);
	a = gw_hist_to_json(h);
	text = json_dumps(a, JSON_COMPACT);
	assert_string_equal(text, "[]");
	free(text);
	assert_int_equal(gw_hist_from_json(h, a, &err), 0);
	assert_memory_equal(h, zero, sizeof(*h));
	json_decref(a);
	gw_hist_merge(h, zero);
	assert_memory_equal(h, zero, sizeof(*h));

	/* a zero value is a value */
	gw_hist_add(h, 0);
	assert_int_equal(h->n, 1);
	assert_int_equal(h->max_us, 0);
	assert_int_equal(gw_hist_quantile(h, 0.99), 0);
	free(zero);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_boundaries),
		cmocka_unit_test(test_monotonic_random),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_quantiles_uniform),
		cmocka_unit_test(test_quantiles_nearest_rank),
		cmocka_unit_test(test_quantiles_random),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_sparse_round_trip),
		cmocka_unit_test(test_sparse_bad),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
