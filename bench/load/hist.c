/*
 * Latency histogram: log-linear buckets, quantiles and the sparse JSON form.
 */
#include <string.h>

#include "hist.h"

void gw_hist_init(struct gw_hist *h)
{
	memset(h, 0, sizeof(*h));
}

/* Position of the highest set bit of v (v > 0). */
static unsigned int top_bit(uint64_t v)
{
	return 63u - (unsigned int)__builtin_clzll(v);
}

size_t gw_hist_bucket(uint64_t us)
{
	unsigned int e;

	if (us < GW_HIST_SUB)
		return (size_t)us;
	if (us > GW_HIST_MAX_US)
		return GW_HIST_BUCKETS - 1;
	e = top_bit(us);
	/* the 5 bits below the top one pick the sub-bucket */
	return GW_HIST_SUB + (size_t)(e - GW_HIST_SUB_BITS) * GW_HIST_SUB +
	       (size_t)((us >> (e - GW_HIST_SUB_BITS)) - GW_HIST_SUB);
}

uint64_t gw_hist_bucket_low(size_t i)
{
	size_t k;

	gw_assert(i < GW_HIST_BUCKETS);
	if (i < GW_HIST_SUB)
		return (uint64_t)i;
	k = i - GW_HIST_SUB;
	return (uint64_t)(GW_HIST_SUB + k % GW_HIST_SUB) << (k / GW_HIST_SUB);
}

uint64_t gw_hist_bucket_high(size_t i)
{
	gw_assert(i < GW_HIST_BUCKETS);
	if (i == GW_HIST_BUCKETS - 1)
		return GW_HIST_MAX_US;
	return gw_hist_bucket_low(i + 1) - 1;
}

void gw_hist_add(struct gw_hist *h, uint64_t us)
{
	h->counts[gw_hist_bucket(us)]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

void gw_hist_merge(struct gw_hist *dst, const struct gw_hist *src)
{
	if (src->n == 0)
		return;
	for (size_t i = 0; i < GW_HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->n += src->n;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
}

/*
 * Rank ceil(q * n), at least 1 and at most n. A little slack below the
 * product keeps 0.99 * 100 (98.99999... or 99.00000...1 in binary) at 99;
 * the rounding up is done by hand so the tools need no libm.
 */
static uint64_t rank_of(double q, uint64_t n)
{
	double x;
	uint64_t r;

	if (!(q > 0))
		return 1;
	if (q >= 1)
		return n;
	x = q * (double)n - 1e-9;
	if (x <= 0)
		return 1;
	r = (uint64_t)x;
	if ((double)r < x)
		r++;
	return r < 1 ? 1 : r > n ? n : r;
}

uint64_t gw_hist_quantile(const struct gw_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->n == 0)
		return 0;
	rank = rank_of(q, h->n);
	for (size_t i = 0; i < GW_HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t high = gw_hist_bucket_high(i);

			return high < h->max_us ? high : h->max_us;
		}
	}
	return h->max_us; /* counts short of n: only after a bad caller edit */
}

json_t *gw_hist_to_json(const struct gw_hist *h)
{
	json_t *a = json_array();

	for (size_t i = 0; i < GW_HIST_BUCKETS && a; i++) {
		if (h->counts[i] == 0)
			continue;
		json_array_append_new(a, json_pack("[II]", (json_int_t)i,
						   (json_int_t)h->counts[i]));
	}
	return a;
}

/* Check one [index, count] pair; its values into *index and *count. */
static int read_pair(const json_t *p, size_t pos, size_t *index, uint64_t *count,
		     struct gw_error *err)
{
	json_t *ji, *jc;
	json_int_t i, c;

	if (!json_is_array(p) || json_array_size(p) != 2)
		return gw_error_set(err, GW_ERR_INPUT,
				    "histogram entry %zu is not an [index, count] pair", pos);
	ji = json_array_get(p, 0);
	jc = json_array_get(p, 1);
	if (!json_is_integer(ji) || !json_is_integer(jc))
		return gw_error_set(err, GW_ERR_INPUT,
				    "histogram entry %zu does not hold two integers", pos);
	i = json_integer_value(ji);
	c = json_integer_value(jc);
	if (i < 0 || i >= GW_HIST_BUCKETS)
		return gw_error_set(err, GW_ERR_INPUT,
				    "histogram entry %zu: bucket %" JSON_INTEGER_FORMAT
				    " out of range 0..%d", pos, i, GW_HIST_BUCKETS - 1);
	if (c <= 0)
		return gw_error_set(err, GW_ERR_INPUT,
				    "histogram entry %zu: count %" JSON_INTEGER_FORMAT
				    " is not positive", pos, c);
	*index = (size_t)i;
	*count = (uint64_t)c;
	return 0;
}

int gw_hist_from_json(struct gw_hist *h, const json_t *a, struct gw_error *err)
{
	size_t index, top = 0;
	uint64_t count;
	int rc;

	if (!json_is_array(a))
		return gw_error_set(err, GW_ERR_INPUT, "histogram is not an array");
	/* check everything first: a bad array leaves h as it was */
	for (size_t k = 0; k < json_array_size(a); k++) {
		rc = read_pair(json_array_get(a, k), k, &index, &count, err);
		if (rc < 0)
			return rc;
	}
	for (size_t k = 0; k < json_array_size(a); k++) {
		rc = read_pair(json_array_get(a, k), k, &index, &count, NULL);
		gw_assert(rc == 0);
		h->counts[index] += count;
		h->n += count;
		if (index > top)
			top = index;
	}
	if (json_array_size(a) > 0 && gw_hist_bucket_high(top) > h->max_us)
		h->max_us = gw_hist_bucket_high(top);
	return 0;
}
