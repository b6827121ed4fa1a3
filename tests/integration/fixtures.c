/* fixtures.c: users, venues and events for integration tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "crypto.h"
#include "fixtures.h"

struct db *fixture_connect(void)
{
    const char *url = getenv("BOXOFFICE_TEST_DATABASE_URL");
    if (url == NULL || url[0] == '\0') {
        fprintf(stderr, "skipped: BOXOFFICE_TEST_DATABASE_URL is not set (scripts/test sets it)\n");
        exit(77);
    }
    struct db *db = db_open(url);
    if (db == NULL || !db_connected(db)) {
        fprintf(stderr, "cannot connect to %s\n", url);
        exit(1);
    }
    return db;
}

int64_t fixture_user(struct db *db, char token_hash[65])
{
    static int serial;
    char email[96];
    char token[ACCOUNT_TOKEN_TEXT];
    char *json = NULL;
    enum db_status st;
    uint8_t digest[CRYPTO_SHA256_LEN];
    uint8_t raw[6];

    assert_true(crypto_random_bytes(raw, sizeof(raw)));
    char tag[13];
    crypto_hex_encode(raw, sizeof(raw), tag);
    snprintf(email, sizeof(email), "it-%s-%d@example.com", tag, ++serial);
    assert_int_equal(account_create(db, email, "password123", "Tester", 1, &json, &st), ACCOUNT_OK);
    free(json);
    json = NULL;
    assert_int_equal(account_signin(db, email, "password123", 3600, token, &json, &st), ACCOUNT_OK);
    free(json);
    crypto_sha256(token, strlen(token), digest);
    crypto_hex_encode(digest, sizeof(digest), token_hash);
    char sql[256];
    snprintf(sql, sizeof(sql), "SELECT id FROM users WHERE email = '%s'", email);
    return fixture_int(db, sql);
}

int64_t fixture_int(struct db *db, const char *sql)
{
    /* Each distinct query text gets its own statement name. */
    static struct {
        char name[32];
        char sql[1024];
        struct db_statement stmt;
    } cache[128];
    static int used;
    struct db_statement *stmt = NULL;
    for (int i = 0; i < used; i++) {
        if (strcmp(cache[i].sql, sql) == 0)
            stmt = &cache[i].stmt;
    }
    if (stmt == NULL) {
        assert_true(used < 128 && strlen(sql) < sizeof(cache[0].sql));
        snprintf(cache[used].name, sizeof(cache[used].name), "fixture_%d", used);
        snprintf(cache[used].sql, sizeof(cache[used].sql), "%s", sql);
        cache[used].stmt.name = cache[used].name;
        cache[used].stmt.sql = cache[used].sql;
        stmt = &cache[used++].stmt;
    }
    struct db_result *r = NULL;
    enum db_status st = db_run(db, stmt, 0, NULL, &r);
    if (st != DB_OK)
        fail_msg("%s: %s", sql, db_last_error(db));
    assert_int_equal(db_rows(r), 1);
    int64_t v = db_int64(r, 0, 0);
    db_result_free(r);
    return v;
}

int64_t fixture_event(struct db *db, int rows, int per_row, int hold_ttl_s, int max_per_user,
                      int on_sale_offset_s)
{
    static int serial;
    char sql[1024];
    int n = ++serial;
    snprintf(sql, sizeof(sql),
             "SELECT event_create(jsonb_build_object('venue_id', venue_create("
             "'{\"name\":\"IT venue %d\",\"city\":\"Testville\",\"sections\":[{\"name\":\"S\","
             "\"category\":\"A\",\"x\":0,\"y\":0,\"rows\":%d,\"seats_per_row\":%d}]}'::jsonb), "
             "'title', 'IT event %d', 'performer', 'P', 'category', 'concert', "
             "'starts_at', now() + interval '30 days', "
             "'on_sale_at', now() + make_interval(secs => %d), "
             "'hold_ttl_s', %d, 'max_per_user', %d, "
             "'prices', '[{\"category\":\"A\",\"amount\":1000}]'::jsonb))",
             n, rows, per_row, n, on_sale_offset_s, hold_ttl_s, max_per_user);
    return fixture_int(db, sql);
}

int fixture_seats(struct db *db, int64_t event_id, int64_t *out, int cap)
{
    static const struct db_statement seats = {
        "fixture_seats", "SELECT seat_id FROM event_seats WHERE event_id = $1 ORDER BY rank, seat_id"};
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)event_id);
    const char *params[] = {id};
    struct db_result *r = NULL;
    assert_int_equal(db_run(db, &seats, 1, params, &r), DB_OK);
    int n = db_rows(r) < cap ? db_rows(r) : cap;
    for (int i = 0; i < n; i++)
        out[i] = db_int64(r, i, 0);
    db_result_free(r);
    return n;
}
