/* fixtures.h: users, venues and events made directly in the test database
 * for integration tests. Every helper fails the running test on error. */
#ifndef BOXOFFICE_TEST_FIXTURES_H
#define BOXOFFICE_TEST_FIXTURES_H

#include <stdint.h>

#include "db.h"

/* Connects to BOXOFFICE_TEST_DATABASE_URL; exits 77 (skipped) when unset. */
struct db *fixture_connect(void);

/* A new user with a live session; writes the session token's SHA-256 (hex)
 * into token_hash (65 bytes) and returns the user id. */
int64_t fixture_user(struct db *db, char token_hash[65]);

/* A new venue of one section (rows x per_row seats, category A) and an event
 * in it priced 1000 per seat. on_sale_offset_s is added to now() for
 * on_sale_at. Returns the event id. */
int64_t fixture_event(struct db *db, int rows, int per_row, int hold_ttl_s, int max_per_user,
                      int on_sale_offset_s);

/* The seat ids of an event in rank order; returns how many (<= cap). */
int fixture_seats(struct db *db, int64_t event_id, int64_t *out, int cap);

/* Runs SQL that returns one integer (count(*) and the like). */
int64_t fixture_int(struct db *db, const char *sql);

#endif
