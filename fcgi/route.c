/* route.c: every URL the application answers, in one table. */
#include "route.h"

#include "handlers.h"

#include <string.h>

/* clang-format off */
const struct route route_table[] = {
    /* operations */
    {HTTP_GET,    "/healthz",                            h_ops_healthz,           ROUTE_PUBLIC,          "healthz"},
    {HTTP_GET,    "/metrics",                            h_ops_metrics,           ROUTE_PUBLIC,          "metrics"},
    /* accounts */
    {HTTP_POST,   "/api/users",                          h_account_signup,        ROUTE_PUBLIC,          "users_create"},
    {HTTP_POST,   "/api/sessions",                       h_account_signin,        ROUTE_PUBLIC,          "sessions_create"},
    {HTTP_DELETE, "/api/sessions",                       h_account_signout,       ROUTE_PUBLIC,          "sessions_delete"},
    {HTTP_GET,    "/api/me",                             h_account_me,            ROUTE_USER,            "me"},
    /* events and seats */
    {HTTP_GET,    "/api/events",                         h_event_list,            ROUTE_PUBLIC,          "events_list"},
    {HTTP_GET,    "/api/events/:id",                     h_event_show,            ROUTE_PUBLIC,          "events_show"},
    {HTTP_GET,    "/api/events/:id/seats",               h_event_seats,           ROUTE_PUBLIC,          "events_seats"},
    {HTTP_GET,    "/api/venues/:id",                     h_venue_show,            ROUTE_PUBLIC,          "venues_show"},
    /* holds */
    {HTTP_POST,   "/api/events/:id/holds",               h_hold_create,           ROUTE_SESSION_IN_SQL,  "holds_create"},
    {HTTP_GET,    "/api/holds/:id",                      h_hold_show,             ROUTE_USER,            "holds_show"},
    {HTTP_DELETE, "/api/holds/:id",                      h_hold_release,          ROUTE_USER,            "holds_release"},
    /* checkout and payment */
    {HTTP_POST,   "/api/holds/:id/checkout",             h_order_checkout,        ROUTE_SESSION_IN_SQL,  "orders_checkout"},
    {HTTP_GET,    "/api/orders",                         h_order_list,            ROUTE_USER,            "orders_list"},
    {HTTP_GET,    "/api/orders/:id",                     h_order_show,            ROUTE_USER,            "orders_show"},
    {HTTP_POST,   "/api/orders/:id/pay",                 h_order_pay,             ROUTE_SESSION_IN_SQL,  "orders_pay"},
    {HTTP_POST,   "/api/orders/:id/cancel",              h_order_cancel,          ROUTE_USER,            "orders_cancel"},
    {HTTP_POST,   "/api/payments/webhook",               h_payment_webhook,       ROUTE_PUBLIC,          "payments_webhook"},
    /* waiting room */
    {HTTP_POST,   "/api/queue/:id/join",                 h_queue_join,            ROUTE_USER,            "queue_join"},
    {HTTP_GET,    "/api/queue/:id/status",               h_queue_status,          ROUTE_PUBLIC,          "queue_status"},
    {HTTP_GET,    "/api/queue/:id/challenge",            h_queue_challenge,       ROUTE_USER,            "queue_challenge"},
    {HTTP_GET,    "/api/queue/:id/fairness",             h_queue_fairness,        ROUTE_PUBLIC,          "queue_fairness"},
    /* search */
    {HTTP_GET,    "/api/search",                         h_search_query,          ROUTE_PUBLIC,          "search"},
    {HTTP_GET,    "/api/search/suggest",                 h_search_suggest,        ROUTE_PUBLIC,          "search_suggest"},
    /* trains */
    {HTTP_GET,    "/api/stations",                       h_train_stations,        ROUTE_PUBLIC,          "stations_list"},
    {HTTP_GET,    "/api/trains/search",                  h_train_search,          ROUTE_PUBLIC,          "trains_search"},
    {HTTP_GET,    "/api/trains/:s/runs/:s",              h_train_run_show,        ROUTE_PUBLIC,          "trains_run_show"},
    {HTTP_POST,   "/api/trains/:s/runs/:s/bookings",     h_train_book,            ROUTE_USER,            "trains_book"},
    {HTTP_GET,    "/api/pnr/:s",                         h_train_pnr_show,        ROUTE_USER,            "pnr_show"},
    {HTTP_POST,   "/api/pnr/:s/cancel",                  h_train_pnr_cancel,      ROUTE_USER,            "pnr_cancel"},
    /* administration */
    {HTTP_POST,   "/api/admin/trains/import",            h_train_import,          ROUTE_ADMIN | ROUTE_LARGE_BODY, "admin_trains_import"},
    {HTTP_PUT,    "/api/admin/trains/:s/runs/:s/classes/:s", h_train_run_class_set, ROUTE_ADMIN,         "admin_trains_run_class"},
    {HTTP_POST,   "/api/admin/venues",                   h_admin_venue_create,    ROUTE_ADMIN | ROUTE_LARGE_BODY, "admin_venues_create"},
    {HTTP_POST,   "/api/admin/events",                   h_admin_event_create,    ROUTE_ADMIN,           "admin_events_create"},
    {HTTP_PATCH,  "/api/admin/events/:id",               h_admin_event_update,    ROUTE_ADMIN,           "admin_events_update"},
    {HTTP_GET,    "/api/admin/events/:id/stats",         h_admin_event_stats,     ROUTE_ADMIN,           "admin_events_stats"},
};
/* clang-format on */

const int route_count = (int)(sizeof(route_table) / sizeof(route_table[0]));

enum http_method route_method(const char *text)
{
    static const struct {
        const char *name;
        enum http_method method;
    } methods[] = {{"GET", HTTP_GET},     {"POST", HTTP_POST},     {"PUT", HTTP_PUT},
                   {"PATCH", HTTP_PATCH}, {"DELETE", HTTP_DELETE}, {"HEAD", HTTP_GET}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (text != NULL && strcmp(text, methods[i].name) == 0)
            return methods[i].method;
    }
    return HTTP_OTHER;
}

/* Matches one pattern against path, capturing into req. */
static bool route_matches(const char *pattern, const char *path, struct request *req)
{
    int ids = 0;
    int args = 0;
    const char *p = pattern;
    const char *s = path;

    while (*p != '\0' && *s != '\0') {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        const char *p_end = strchr(p, '/');
        const char *s_end = strchr(s, '/');
        size_t p_len = p_end != NULL ? (size_t)(p_end - p) : strlen(p);
        size_t s_len = s_end != NULL ? (size_t)(s_end - s) : strlen(s);
        if (p_len == 3 && memcmp(p, ":id", 3) == 0) {
            char text[24];
            if (s_len == 0 || s_len >= sizeof(text) || ids >= HTTP_MAX_PATH_PARAMS)
                return false;
            memcpy(text, s, s_len);
            text[s_len] = '\0';
            if (!v_parse_id(text, &req->ids[ids]))
                return false;
            ids++;
        } else if (p_len == 2 && memcmp(p, ":s", 2) == 0) {
            if (s_len == 0 || s_len >= HTTP_PARAM_MAX || args >= HTTP_MAX_PATH_PARAMS)
                return false;
            for (size_t i = 0; i < s_len; i++) {
                char c = s[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                if (!ok)
                    return false;
            }
            memcpy(req->args[args], s, s_len);
            req->args[args][s_len] = '\0';
            args++;
        } else if (p_len != s_len || memcmp(p, s, p_len) != 0) {
            return false;
        }
        p += p_len;
        s += s_len;
    }
    return *p == '\0' && *s == '\0';
}

int route_match(enum http_method method, const char *path, struct request *req)
{
    int result = ROUTE_NOT_FOUND;
    for (int i = 0; i < route_count; i++) {
        if (!route_matches(route_table[i].pattern, path, req))
            continue;
        if (route_table[i].method == method)
            return i;
        result = ROUTE_METHOD_NOT_ALLOWED;
    }
    return result;
}
