/*
 * Latency histogram of the bench's load generator: log-linear buckets of
 * microseconds, mergeable, with a sparse JSON form for its output lines.
 */
#ifndef GW_BENCH_HIST_H
#define GW_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "godwit/common.h"

/*
 * Values 0..31 have one bucket each; above, every power of two 2^e
 * (e = 5..39) is split into 32 equal buckets, so a bucket's width is at most
 * 1/32 of its lower bound (relative error under 3.2%). Values of 2^40 us
 * (12.7 days) and more fall into the last bucket; max_us stays exact.
 */
#define GW_HIST_SUB_BITS 5
#define GW_HIST_SUB (1 << GW_HIST_SUB_BITS) /* 32 */
#define GW_HIST_EXP 40                      /* 2^0 .. 2^39 */
#define GW_HIST_BUCKETS (GW_HIST_SUB + (GW_HIST_EXP - GW_HIST_SUB_BITS) * GW_HIST_SUB)
#define GW_HIST_MAX_US ((UINT64_C(1) << GW_HIST_EXP) - 1) /* top of the last bucket */

struct gw_hist {
	uint64_t counts[GW_HIST_BUCKETS]; /* values per bucket */
	uint64_t n;                       /* values in all, the sum of counts */
	uint64_t max_us;                  /* largest value added, exact; 0 while empty */
};

/* Empty the histogram. A zeroed struct gw_hist is empty too. */
void gw_hist_init(struct gw_hist *h);

/* Bucket index of a value, 0 .. GW_HIST_BUCKETS - 1. */
size_t gw_hist_bucket(uint64_t us);
/* Smallest and largest value of bucket i (i < GW_HIST_BUCKETS), both inclusive. */
uint64_t gw_hist_bucket_low(size_t i);
uint64_t gw_hist_bucket_high(size_t i);

void gw_hist_add(struct gw_hist *h, uint64_t us);
/* Add every value of src to dst, as if each had been added to dst. */
void gw_hist_merge(struct gw_hist *dst, const struct gw_hist *src);

/*
 * The nearest-rank q-quantile (q in [0, 1]; 0 gives the smallest value's
 * bucket, 1 the largest): the largest value of the bucket holding the
 * value of rank ceil(q * n), but never above max_us. 0 when empty.
 */
uint64_t gw_hist_quantile(const struct gw_hist *h, double q);

/*
 * New JSON array [[index, count], ...] of the non-empty buckets, by index;
 * caller releases it with json_decref().
 */
json_t *gw_hist_to_json(const struct gw_hist *h);

/*
 * Add the counts of a gw_hist_to_json() array a to h. max_us becomes at
 * least the largest value of the highest bucket given, an upper bound of
 * the real maximum: a caller that knows the exact one sets max_us after.
 * GW_ERR_INPUT with a message in err (may be NULL) when a is not such an
 * array (index out of range, count not positive); h is then unchanged.
 */
GW_MUSTCHECK int gw_hist_from_json(struct gw_hist *h, const json_t *a, struct gw_error *err);

#endif
