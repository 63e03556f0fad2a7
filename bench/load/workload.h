/*
 * Small helpers that the workload programs share: gw_load (the bench's
 * foreground load) and tests/integration/gw_writer (the tests' writers).
 */
#ifndef GW_WORKLOAD_H
#define GW_WORKLOAD_H

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Set by SIGINT/SIGTERM once install_signals() ran; the program stops on it. */
static volatile sig_atomic_t stop_signal;

static inline void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Catch SIGINT and SIGTERM into stop_signal. Reads restart, so that a
 * signal never turns a statement in flight into an error. -1 on failure.
 */
static inline int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	return 0;
}

/* Monotonic clock in seconds, for pacing and latencies. */
static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: small, seedable, good enough for a workload. */
static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* A whole decimal number in [min, max] into *out; -1 for anything else. */
static inline int parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A finite decimal number into *out; -1 for anything else. */
static inline int parse_double(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* Whether path (may be NULL) names an existing file: a stop file. */
static inline bool file_exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

/* An unsigned seed (decimal, 0x hex or 0 octal) into *out; -1 for anything else. */
static inline int parse_seed(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (end == s || *end || errno || *s == '-')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

#endif
