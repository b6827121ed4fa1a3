/* queue_cache.c: the per-worker admission cache and status arithmetic. */
#include "queue_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement queue_cache_stmt = {
    "queue_cache_rows",
    "SELECT event_id, on_sale_at_ms, admit_cursor, last_position, sold_out, drawn, "
    "access_ttl_s, admit_per_minute, pow_bits, history_cursor, history_at_ms "
    "FROM queue_cache_rows() ORDER BY event_id"};

static void queue_cache_free_events(struct queue_cache_event *events, size_t count)
{
    if (events == NULL)
        return;
    for (size_t i = 0; i < count; i++) {
        free(events[i].history_cursor);
        free(events[i].history_at_ms);
    }
    free(events);
}

long queue_cache_parse_list(const char *text, int64_t *out, size_t cap)
{
    size_t total = 0;
    const char *p = text;
    if (*p == '\0')
        return 0;
    for (const char *c = text; *c != '\0'; c++)
        total += *c == ',';
    total++;
    size_t skip = total > cap ? total - cap : 0;
    size_t n = 0;
    for (size_t i = 0; i < total; i++) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno != 0 || end == p || (*end != ',' && *end != '\0'))
            return -1;
        if (i >= skip)
            out[n++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    return (long)n;
}

/* Reads one row into ev; false on malformed history. */
static bool queue_cache_row(const struct db_result *r, int row, struct queue_cache_event *ev)
{
    ev->event_id = db_int64(r, row, 0);
    ev->on_sale_at_ms = db_int64(r, row, 1);
    ev->cursor = db_int64(r, row, 2);
    ev->last_position = db_int64(r, row, 3);
    ev->sold_out = db_bool(r, row, 4);
    ev->drawn = db_bool(r, row, 5);
    ev->access_ttl_s = (int)db_int64(r, row, 6);
    ev->admit_per_minute = (int)db_int64(r, row, 7);
    ev->pow_bits = (int)db_int64(r, row, 8);
    const char *cursors = db_text(r, row, 9);
    size_t cap = 1;
    for (const char *c = cursors; *c != '\0'; c++)
        cap += *c == ',';
    if (cap > QUEUE_HISTORY_MAX)
        cap = QUEUE_HISTORY_MAX;
    ev->history_cursor = calloc(cap, sizeof(int64_t));
    ev->history_at_ms = calloc(cap, sizeof(int64_t));
    if (ev->history_cursor == NULL || ev->history_at_ms == NULL)
        return false;
    long nc = queue_cache_parse_list(cursors, ev->history_cursor, cap);
    long nt = queue_cache_parse_list(db_text(r, row, 10), ev->history_at_ms, cap);
    if (nc < 0 || nc != nt)
        return false;
    ev->history_len = (size_t)nc;
    return true;
}

bool queue_cache_refresh(struct queue_cache *cache, struct db *db, int64_t now_ms,
                         int64_t min_fresh_ms)
{
    struct db_result *r = NULL;
    struct queue_cache_event *events = NULL;
    bool ok = false;
    size_t n = 0;

    if (cache->refreshed_at_ms != 0 && now_ms - cache->refreshed_at_ms < QUEUE_CACHE_REFRESH_MS &&
        cache->refreshed_at_ms >= min_fresh_ms)
        return true;
    cache->refreshed_at_ms = now_ms;
    if (db_run(db, &queue_cache_stmt, 0, NULL, &r) != DB_OK)
        goto done;
    int rows = db_rows(r);
    if (rows > QUEUE_CACHE_MAX_EVENTS)
        rows = QUEUE_CACHE_MAX_EVENTS;
    if (rows > 0) {
        events = calloc((size_t)rows, sizeof(*events));
        if (events == NULL)
            goto done;
    }
    for (int i = 0; i < rows; i++) {
        n++;
        if (!queue_cache_row(r, i, &events[i]))
            goto done;
    }
    queue_cache_free_events(cache->events, cache->count);
    cache->events = events;
    cache->count = n;
    events = NULL; /* the cache owns them now */
    ok = true;
done:
    queue_cache_free_events(events, n);
    db_result_free(r);
    return ok;
}

const struct queue_cache_event *queue_cache_find(const struct queue_cache *cache, int64_t event_id)
{
    size_t lo = 0, hi = cache->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cache->events[mid].event_id == event_id)
            return &cache->events[mid];
        if (cache->events[mid].event_id < event_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void queue_cache_free(struct queue_cache *cache)
{
    queue_cache_free_events(cache->events, cache->count);
    memset(cache, 0, sizeof(*cache));
}

double queue_measured_rate(const struct queue_cache_event *ev, int64_t now_ms)
{
    double fallback = ev->admit_per_minute / 60.0;
    if (ev->history_len < 2)
        return fallback;
    /* The base is the newest step at or before the window's start (or the
     * oldest step we have); the rate is what was admitted since, over the
     * time since. */
    int64_t start = now_ms - QUEUE_RATE_WINDOW_MS;
    size_t base = 0;
    while (base + 1 < ev->history_len && ev->history_at_ms[base + 1] <= start)
        base++;
    int64_t span = now_ms - ev->history_at_ms[base];
    int64_t admitted = ev->history_cursor[ev->history_len - 1] - ev->history_cursor[base];
    if (span < 2000 || admitted <= 0)
        return fallback;
    return (double)admitted * 1000.0 / (double)span;
}

/* When position was admitted: the time of the first step that reached it.
 * False when the history no longer says (then it was long ago). */
static bool queue_admitted_at(const struct queue_cache_event *ev, int64_t position, int64_t *at)
{
    size_t lo = 0, hi = ev->history_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev->history_cursor[mid] >= position)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo == ev->history_len)
        return false;
    *at = ev->history_at_ms[lo];
    return true;
}

static int queue_poll_after(int64_t eta_s)
{
    /* Poll about eight times on the way to the front: those far back cost
     * little, those near it learn of their turn within a second or two. */
    int64_t poll = eta_s / 8;
    if (poll < 1)
        poll = 1;
    if (poll > 60)
        poll = 60;
    return (int)poll;
}

void queue_status_of(const struct queue_cache_event *ev, int64_t position, int64_t now_ms,
                     struct queue_status *st)
{
    memset(st, 0, sizeof(*st));
    st->state = QUEUE_STATE_WAITING;
    st->ahead = -1;
    if (position <= 0) {
        int64_t until_open = (ev->on_sale_at_ms - now_ms) / 1000;
        st->eta_s = until_open > 0 ? until_open : 0;
        st->poll_after_s = queue_poll_after(st->eta_s * 4);
        if (st->poll_after_s > 30)
            st->poll_after_s = 30;
        return;
    }
    if (position <= ev->cursor) {
        int64_t at = 0;
        int64_t ttl_ms = (int64_t)ev->access_ttl_s * 1000;
        if (!queue_admitted_at(ev, position, &at) || now_ms >= at + ttl_ms) {
            st->state = QUEUE_STATE_EXPIRED;
            st->ahead = 0;
            st->poll_after_s = 60;
            return;
        }
        st->state = QUEUE_STATE_ADMITTED;
        st->ahead = 0;
        st->admitted_at_ms = at;
        st->access_expires_at_ms = at + ttl_ms;
        st->poll_after_s = 60;
        return;
    }
    st->ahead = position - ev->cursor - 1;
    if (ev->sold_out) {
        st->state = QUEUE_STATE_SOLD_OUT;
        st->poll_after_s = 30;
        return;
    }
    double rate = queue_measured_rate(ev, now_ms);
    st->eta_s = (int64_t)((double)(st->ahead + 1) / rate + 0.999);
    st->poll_after_s = queue_poll_after(st->eta_s);
}
