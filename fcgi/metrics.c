/* metrics.c: counters in shared memory, rendered for Prometheus. */
#include "metrics.h"

#include "route.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define METRICS_ROUTES 128 /* route slots; the last one is "unmatched" */

static const int metrics_statuses[] = {200, 201, 204, 400, 401, 402, 403, 404, 405, 409,
                                       410, 413, 415, 422, 429, 500, 502, 503, 504, 0};
#define METRICS_STATUS_SLOTS (sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))

static const double metrics_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                         0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define METRICS_BUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

struct metrics_route {
    uint64_t by_status[METRICS_STATUS_SLOTS];
    uint64_t buckets[METRICS_BUCKETS]; /* not cumulative; summed when rendered */
    uint64_t count;
    uint64_t sum_us;
};

struct metrics_shared {
    struct metrics_route routes[METRICS_ROUTES];
    uint64_t counters[METRIC_COUNTER_MAX];
};

static struct metrics_shared *metrics;

static const char *metrics_counter_names[METRIC_COUNTER_MAX] = {
    [METRIC_HOLDS_CREATED] = "boxoffice_holds_created_total",
    [METRIC_HOLDS_RELEASED] = "boxoffice_holds_released_total",
    [METRIC_HOLDS_SEATS_UNAVAILABLE] = "boxoffice_holds_seats_unavailable_total",
    [METRIC_SOLD_OUT_ANSWERS] = "boxoffice_sold_out_answers_total",
    [METRIC_SOLD_OUT_CACHE_HITS] = "boxoffice_sold_out_cache_hits_total",
    [METRIC_WORKER_RESTARTS] = "boxoffice_worker_restarts_total",
};

bool metrics_init(void)
{
    void *p = mmap(NULL, sizeof(struct metrics_shared), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    memset(p, 0, sizeof(struct metrics_shared));
    metrics = p;
    return true;
}

static void metrics_add(uint64_t *slot, uint64_t n)
{
    __atomic_fetch_add(slot, n, __ATOMIC_RELAXED);
}

static uint64_t metrics_read(const uint64_t *slot)
{
    return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

void metrics_observe(int route, int status, double seconds)
{
    if (metrics == NULL)
        return;
    if (route < 0 || route >= METRICS_ROUTES - 1)
        route = METRICS_ROUTES - 1;
    struct metrics_route *m = &metrics->routes[route];
    size_t s = METRICS_STATUS_SLOTS - 1;
    for (size_t i = 0; i + 1 < METRICS_STATUS_SLOTS; i++) {
        if (metrics_statuses[i] == status) {
            s = i;
            break;
        }
    }
    metrics_add(&m->by_status[s], 1);
    for (size_t b = 0; b < METRICS_BUCKETS; b++) {
        if (seconds <= metrics_buckets[b]) {
            metrics_add(&m->buckets[b], 1);
            break;
        }
    }
    metrics_add(&m->count, 1);
    metrics_add(&m->sum_us, (uint64_t)(seconds * 1e6));
}

void metrics_count(enum metrics_counter counter, uint64_t n)
{
    if (metrics != NULL && counter < METRIC_COUNTER_MAX)
        metrics_add(&metrics->counters[counter], n);
}

/* A growable text buffer with a hard cap. */
struct metrics_text {
    char *data;
    size_t len, cap;
    bool failed;
};

#define METRICS_TEXT_MAX (4u << 20)

static void metrics_printf(struct metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void metrics_printf(struct metrics_text *t, const char *fmt, ...)
{
    va_list ap;
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        int n = vsnprintf(t->data + t->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2;
        char *p = cap <= METRICS_TEXT_MAX ? realloc(t->data, cap) : NULL;
        if (p == NULL) {
            t->failed = true;
            return;
        }
        t->data = p;
        t->cap = cap;
    }
}

static const char *metrics_route_name(int i)
{
    return i < route_count ? route_table[i].name : "unmatched";
}

char *metrics_render(const char *extra)
{
    struct metrics_text t = {malloc(16384), 0, 16384, false};
    if (t.data == NULL)
        return NULL;
    t.data[0] = '\0';
    if (metrics == NULL)
        goto tail;

    metrics_printf(&t, "# HELP boxoffice_http_requests_total Requests answered, by route and "
                       "status.\n# TYPE boxoffice_http_requests_total counter\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        if (r >= route_count && r != METRICS_ROUTES - 1)
            continue;
        for (size_t s = 0; s < METRICS_STATUS_SLOTS; s++) {
            uint64_t n = metrics_read(&metrics->routes[r].by_status[s]);
            if (n == 0)
                continue;
            if (metrics_statuses[s] == 0)
                metrics_printf(&t, "boxoffice_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                               metrics_route_name(r), (unsigned long long)n);
            else
                metrics_printf(&t, "boxoffice_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                               metrics_route_name(r), metrics_statuses[s], (unsigned long long)n);
        }
    }
    metrics_printf(&t, "# HELP boxoffice_http_request_duration_seconds Time from request to "
                       "answer, by route.\n# TYPE boxoffice_http_request_duration_seconds "
                       "histogram\n");
    for (int r = 0; r < METRICS_ROUTES; r++) {
        if (r >= route_count && r != METRICS_ROUTES - 1)
            continue;
        const struct metrics_route *m = &metrics->routes[r];
        uint64_t count = metrics_read(&m->count);
        if (count == 0)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b < METRICS_BUCKETS; b++) {
            cumulative += metrics_read(&m->buckets[b]);
            metrics_printf(&t,
                           "boxoffice_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                           "%llu\n",
                           metrics_route_name(r), metrics_buckets[b],
                           (unsigned long long)cumulative);
        }
        metrics_printf(&t,
                       "boxoffice_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                       "%llu\n",
                       metrics_route_name(r), (unsigned long long)count);
        metrics_printf(&t, "boxoffice_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n",
                       metrics_route_name(r), (double)metrics_read(&m->sum_us) / 1e6);
        metrics_printf(&t, "boxoffice_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                       metrics_route_name(r), (unsigned long long)count);
    }
    for (int c = 0; c < METRIC_COUNTER_MAX; c++) {
        metrics_printf(&t, "# TYPE %s counter\n%s %llu\n", metrics_counter_names[c],
                       metrics_counter_names[c],
                       (unsigned long long)metrics_read(&metrics->counters[c]));
    }
tail:
    if (extra != NULL)
        metrics_printf(&t, "%s", extra);
    if (t.failed) {
        free(t.data);
        return NULL;
    }
    return t.data;
}
