/* h_ops.c: health and metrics for operators. */
#include "handlers.h"
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_statement ops_ping = {"ops_ping", "SELECT 1"};

static const struct db_statement ops_gauges = {
    "ops_gauges",
    "SELECT (SELECT value FROM job_counters WHERE name = 'holds_expired'), "
    "(SELECT count(*) FROM holds WHERE status = 'active' AND expires_at > now())"};

/* 200 {"status":"ok"} when the database answers, 503 otherwise. */
void h_ops_healthz(struct request *req, struct response *res)
{
    enum db_status st = db_run(req->db, &ops_ping, 0, NULL, NULL);
    if (st != DB_OK) {
        http_error(res, 503, "database_unavailable", "The database does not answer.");
        return;
    }
    http_json_text(res, 200, strdup("{\"status\":\"ok\"}"));
}

/* 200 Prometheus text: request counters and histograms from shared memory,
 * plus gauges read from the database (omitted when it is down). */
void h_ops_metrics(struct request *req, struct response *res)
{
    struct db_result *r = NULL;
    char extra[512] = "";
    if (db_run(req->db, &ops_gauges, 0, NULL, &r) == DB_OK && db_rows(r) == 1) {
        snprintf(extra, sizeof(extra),
                 "# TYPE boxoffice_holds_expired_total counter\n"
                 "boxoffice_holds_expired_total %s\n"
                 "# TYPE boxoffice_holds_active gauge\nboxoffice_holds_active %s\n",
                 db_text(r, 0, 0), db_text(r, 0, 1));
    }
    db_result_free(r);
    char *text = metrics_render(extra);
    if (text == NULL) {
        http_error(res, 500, "internal_error", "Out of memory.");
        return;
    }
    free(res->body);
    res->status = 200;
    res->body = text;
    res->body_len = strlen(text);
    res->content_type = "text/plain; version=0.0.4";
}
