/* metrics.h: request and domain counters shared by all worker processes
 * (one anonymous shared mapping made before fork), rendered for Prometheus. */
#ifndef BOXOFFICE_METRICS_H
#define BOXOFFICE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

enum metrics_counter {
    METRIC_HOLDS_CREATED,
    METRIC_HOLDS_RELEASED,
    METRIC_HOLDS_SEATS_UNAVAILABLE,
    METRIC_SOLD_OUT_ANSWERS,
    METRIC_SOLD_OUT_CACHE_HITS,
    METRIC_WORKER_RESTARTS,
    METRIC_COUNTER_MAX
};

/* Maps the shared counters; call once in the supervisor before forking.
 * False when the mapping failed (metrics are then silently not kept). */
bool metrics_init(void) __attribute__((warn_unused_result));

/* Records one finished request: route index (or -1 for unmatched), HTTP
 * status, and its duration. Lock-free. */
void metrics_observe(int route, int status, double seconds);

void metrics_count(enum metrics_counter counter, uint64_t n);

/* Renders all metrics in Prometheus text format, followed by extra (may be
 * NULL) which the caller produced, e.g. gauges read from the database.
 * Returns a malloc'd string or NULL when out of memory. */
char *metrics_render(const char *extra);

#endif
