/* h_queue.c: the waiting room: joining, status polls, proof-of-work
 * challenges, the fairness record. Status polls never reach the database:
 * the queue token is verified by HMAC and the admission cursor comes from
 * the worker's cache (lib/queue_cache.h). */
#include "crypto.h"
#include "handlers.h"
#include "log.h"
#include "pow.h"
#include "queue.h"
#include "queue_cache.h"
#include "token.h"
#include "worker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A place in line is good for as long as any sale lasts. */
#define H_QUEUE_TOKEN_TTL_MS (14LL * 24 * 3600 * 1000)
#define H_QUEUE_CHALLENGE_TTL_MS (10LL * 60 * 1000)
#define H_QUEUE_ANSWER_MAX 1024

static void h_queue_rfc3339(int64_t ms, char out[32])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *h_queue_state_name(enum queue_state state)
{
    switch (state) {
    case QUEUE_STATE_ADMITTED:
        return "admitted";
    case QUEUE_STATE_EXPIRED:
        return "expired";
    case QUEUE_STATE_SOLD_OUT:
        return "sold_out";
    case QUEUE_STATE_WAITING:
        break;
    }
    return "waiting";
}

/* Appends to a H_QUEUE_ANSWER_MAX buffer; false when it would not fit. */
static bool __attribute__((format(printf, 3, 4)))
h_queue_append(char *buf, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, H_QUEUE_ANSWER_MAX - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= H_QUEUE_ANSWER_MAX - *len)
        return false;
    *len += (size_t)n;
    return true;
}

/* The worker's cache, refreshed if due. */
static const struct queue_cache_event *h_queue_event(struct request *req, int64_t event_id,
                                                     int64_t now_ms, int64_t min_fresh_ms)
{
    struct worker_state *state = req->process;
    queue_cache_refresh(&state->queue, req->db, now_ms, min_fresh_ms);
    return queue_cache_find(&state->queue, event_id);
}

/* Reads {"challenge","nonce"} when the body has them; returns the work
 * done (-1 for none or an invalid challenge), or false with res filled on
 * bad input. */
static bool h_queue_pow(struct request *req, struct response *res, int64_t now_ms, int *work)
{
    json_object *body = NULL;
    const char *challenge = NULL, *nonce = NULL;
    struct v_error err;
    struct token_claims claims;
    bool ok = false;

    *work = -1;
    if (req->body_len == 0)
        return true;
    if (!http_body_json(req, res, &body))
        return false;
    if (!v_string(body, "challenge", V_OPTIONAL, 1, TOKEN_TEXT_MAX - 1, &challenge, &err) ||
        !v_string(body, "nonce", V_OPTIONAL, 1, POW_NONCE_MAX, &nonce, &err)) {
        http_invalid(res, &err);
        goto done;
    }
    ok = true;
    if (challenge == NULL || nonce == NULL)
        goto done;
    if (token_verify(req->cfg->token_secret, challenge, TOKEN_CHALLENGE, now_ms, req->ids[0],
                     req->user.id, &claims) != TOKEN_OK) {
        http_error(res, 403, "invalid_challenge",
                   "This challenge is not valid (any more); ask for a new one.");
        ok = false;
        goto done;
    }
    *work = pow_work(challenge, nonce);
    if (*work < 0) {
        http_error(res, 400, "invalid_nonce", "The nonce must be 1 to 64 of A-Z a-z 0-9 - _.");
        ok = false;
    }
done:
    json_object_put(body);
    return ok;
}

/* POST /api/queue/{id}/join, body optional {"challenge","nonce"}: 200
 * {"token","position","pre_queue","poll_after_s"} (again: the same place);
 * 403 pow_required with "pow_bits" (or invalid_challenge); 404
 * event_not_found; 409 queue_disabled or sale_closed; 401. */
void h_queue_join(struct request *req, struct response *res)
{
    int64_t event_id = req->ids[0];
    int64_t now = token_now_ms();
    struct queue_join_result joined;
    struct token_claims claims;
    char token[TOKEN_TEXT_MAX];
    int work = -1;

    if (!h_queue_pow(req, res, now, &work))
        return;
    enum db_status st = queue_join(req->db, event_id, req->user.id, work, &joined);
    if (st != DB_OK) {
        http_db_failure(req, res, st);
        return;
    }
    switch (joined.outcome) {
    case QUEUE_EVENT_NOT_FOUND:
        http_error(res, 404, "event_not_found", "There is no such event.");
        return;
    case QUEUE_DISABLED:
        http_error(res, 409, "queue_disabled", "This sale does not use a waiting room.");
        return;
    case QUEUE_SALE_CLOSED:
        http_error(res, 409, "sale_closed", "Tickets for this event are no longer on sale.");
        return;
    case QUEUE_POW_REQUIRED: {
        json_object *extra = json_object_new_object();
        json_object_object_add(extra, "pow_bits", json_object_new_int(joined.pow_bits));
        http_error_with(res, 403, "pow_required",
                        "Solve the challenge from /challenge before joining.", extra);
        return;
    }
    case QUEUE_JOINED:
        break;
    }
    claims = (struct token_claims){TOKEN_QUEUE,     event_id, req->user.id,
                                   joined.position, now,      now + H_QUEUE_TOKEN_TTL_MS};
    if (!token_sign(req->cfg->token_secret, &claims, token, sizeof(token))) {
        log_error(req->id, "cannot sign a queue token: is token_secret set?");
        http_error(res, 500, "internal_error", "Something went wrong on our side.");
        return;
    }
    struct queue_status status = {.poll_after_s = 1};
    const struct queue_cache_event *ev = h_queue_event(req, event_id, now, 0);
    if (ev != NULL)
        queue_status_of(ev, joined.position, now, &status);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "event_id", json_object_new_int64(event_id));
    json_object_object_add(root, "token", json_object_new_string(token));
    json_object_object_add(root, "position",
                           joined.position > 0 ? json_object_new_int64(joined.position) : NULL);
    json_object_object_add(root, "pre_queue", json_object_new_boolean(joined.pre_queue));
    json_object_object_add(root, "poll_after_s", json_object_new_int(status.poll_after_s));
    http_json(res, 200, root);
}

/* Adds the admission: the access token in the answer and as a cookie. */
static bool h_queue_access(struct request *req, struct response *res,
                           const struct token_claims *queue, const struct queue_status *status,
                           int64_t now, char *access, size_t cap)
{
    struct token_claims claims = {TOKEN_ACCESS,           queue->event_id,
                                  queue->user_id,         queue->position,
                                  status->admitted_at_ms, status->access_expires_at_ms};
    if (!token_sign(req->cfg->token_secret, &claims, access, cap))
        return false;
    int64_t max_age = (status->access_expires_at_ms - now) / 1000;
    http_header(res, "Set-Cookie",
                "queue_access_%lld=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Lax%s",
                (long long)queue->event_id, access, (long long)(max_age > 0 ? max_age : 1),
                strcmp(req->cfg->cookie_secure, "yes") == 0 ? "; Secure" : "");
    return true;
}

/* GET /api/queue/{id}/status?token=..: 200 {"state": "waiting", "admitted",
 * "expired", "sold_out" or "open" (no waiting room now), "position",
 * "ahead", "eta_s", "poll_after_s"}; when admitted "access_token" (also a
 * cookie) and "access_expires_at"; a pre-queue token whose place has been
 * drawn is swapped for one with the position ("token"). 400
 * invalid_token; 401 bad_token (forged, expired, another event's). */
void h_queue_status(struct request *req, struct response *res)
{
    int64_t event_id = req->ids[0];
    int64_t now = token_now_ms();
    char token[TOKEN_TEXT_MAX];
    char fresh[TOKEN_TEXT_MAX] = "";
    char access[TOKEN_TEXT_MAX] = "";
    char expires[32] = "";
    struct token_claims claims;
    struct queue_status status;

    if (http_query(req, "token", token, sizeof(token)) != 1) {
        http_error(res, 400, "invalid_token", "Pass the token from joining as ?token=.");
        return;
    }
    if (token_verify(req->cfg->token_secret, token, TOKEN_QUEUE, now, event_id, 0, &claims) !=
        TOKEN_OK) {
        http_error(res, 401, "bad_token", "This is not a valid place in this event's line.");
        return;
    }
    const struct queue_cache_event *ev = h_queue_event(req, event_id, now, claims.issued_at_ms);
    if (ev == NULL) {
        http_json_text(res, 200, strdup("{\"state\":\"open\",\"poll_after_s\":60}"));
        return;
    }
    if (claims.position == 0 && ev->drawn) {
        /* Once per pre-queue user: the drawn place, in a new token. */
        enum db_status st = queue_position(req->db, event_id, claims.user_id, &claims.position);
        if (st != DB_OK) {
            http_db_failure(req, res, st);
            return;
        }
        claims.issued_at_ms = now;
        if (claims.position > 0 &&
            !token_sign(req->cfg->token_secret, &claims, fresh, sizeof(fresh))) {
            http_error(res, 500, "internal_error", "Something went wrong on our side.");
            return;
        }
    }
    queue_status_of(ev, claims.position, now, &status);
    if (status.state == QUEUE_STATE_ADMITTED) {
        if (!h_queue_access(req, res, &claims, &status, now, access, sizeof(access))) {
            http_error(res, 500, "internal_error", "Something went wrong on our side.");
            return;
        }
        h_queue_rfc3339(status.access_expires_at_ms, expires);
    }
    char position[24] = "null", ahead[24] = "null";
    if (claims.position > 0)
        snprintf(position, sizeof(position), "%lld", (long long)claims.position);
    if (status.ahead >= 0)
        snprintf(ahead, sizeof(ahead), "%lld", (long long)status.ahead);
    /* Built by hand: this is the hottest answer of a flash sale. */
    char *body = malloc(H_QUEUE_ANSWER_MAX);
    size_t len = 0;
    bool ok = body != NULL;
    ok = ok && h_queue_append(body, &len,
                              "{\"event_id\":%lld,\"state\":\"%s\",\"position\":%s,\"ahead\":%s,"
                              "\"eta_s\":%lld,\"poll_after_s\":%d,\"pre_queue\":%s",
                              (long long)event_id, h_queue_state_name(status.state), position,
                              ahead, (long long)status.eta_s, status.poll_after_s,
                              claims.position == 0 ? "true" : "false");
    if (access[0] != '\0')
        ok = ok &&
             h_queue_append(body, &len, ",\"access_token\":\"%s\",\"access_expires_at\":\"%s\"",
                            access, expires);
    if (fresh[0] != '\0')
        ok = ok && h_queue_append(body, &len, ",\"token\":\"%s\"", fresh);
    ok = ok && h_queue_append(body, &len, "}");
    if (!ok) {
        free(body);
        http_error(res, 500, "internal_error", "Something went wrong on our side.");
        return;
    }
    http_json_text(res, 200, body);
}

/* GET /api/queue/{id}/challenge: 200 {"challenge","pow_bits","expires_at"}
 * (pow_bits 0: no work needed); 401. */
void h_queue_challenge(struct request *req, struct response *res)
{
    int64_t now = token_now_ms();
    int64_t nonce = 0;
    char challenge[TOKEN_TEXT_MAX];
    char expires[32];

    if (!crypto_random_bytes(&nonce, sizeof(nonce))) {
        http_error(res, 503, "unavailable", "Try again in a moment.");
        return;
    }
    struct token_claims claims = {TOKEN_CHALLENGE, req->ids[0], req->user.id,
                                  nonce,           now,         now + H_QUEUE_CHALLENGE_TTL_MS};
    if (!token_sign(req->cfg->token_secret, &claims, challenge, sizeof(challenge))) {
        http_error(res, 500, "internal_error", "Something went wrong on our side.");
        return;
    }
    const struct queue_cache_event *ev = h_queue_event(req, req->ids[0], now, 0);
    h_queue_rfc3339(claims.expires_at_ms, expires);
    json_object *root = json_object_new_object();
    json_object_object_add(root, "challenge", json_object_new_string(challenge));
    json_object_object_add(root, "pow_bits", json_object_new_int(ev != NULL ? ev->pow_bits : 0));
    json_object_object_add(root, "expires_at", json_object_new_string(expires));
    http_json(res, 200, root);
}

/* GET /api/queue/{id}/fairness: 200 {"seed_sha256", "seed" (null until the
 * pre-queue is drawn), "prequeue_user_ids", "method", ...}; 404
 * queue_not_found. */
void h_queue_fairness(struct request *req, struct response *res)
{
    char *json = NULL;
    enum db_status st = queue_fairness(req->db, req->ids[0], &json);
    if (st != DB_OK)
        http_db_failure(req, res, st);
    else if (json == NULL)
        http_error(res, 404, "queue_not_found", "This event has no waiting room.");
    else
        http_json_text(res, 200, json);
}
