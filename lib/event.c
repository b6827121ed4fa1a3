/* event.c: events, venues and seat maps. */
#include "event.h"

#include "outcome.h"

#include <stdio.h>

static const struct db_statement event_list_stmt = {"event_list",
                                                    "SELECT event_list_json($1, $2)"};
static const struct db_statement event_show_stmt = {"event_show", "SELECT event_json($1)"};
static const struct db_statement event_seats_stmt = {"event_seats",
                                                     "SELECT event_seats_json($1) "
                                                     "WHERE EXISTS (SELECT 1 FROM events "
                                                     "WHERE id = $1)"};
static const struct db_statement event_venue_stmt = {"event_venue", "SELECT venue_json($1)"};
static const struct db_statement event_stats_stmt = {"event_stats",
                                                     "SELECT event_stats_json($1)"};
static const struct db_statement event_venue_create_stmt = {
    "event_venue_create", "SELECT venue_create_json($1::jsonb)"};
static const struct db_statement event_create_stmt = {
    "event_create", "SELECT event_create_json($1::jsonb)"};
static const struct db_statement event_update_stmt = {
    "event_update", "SELECT event_update_json($1, $2::jsonb)"};

/* Runs a one-parameter statement keyed by an id. */
static enum db_status event_json_by_id(struct db *db, const struct db_statement *stmt, int64_t id,
                                       char **json)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)id);
    const char *params[] = {text};
    return outcome_json_query(db, stmt, 1, params, json);
}

enum db_status event_list(struct db *db, int page, int per_page, char **json)
{
    char limit[16];
    char offset[24];
    snprintf(limit, sizeof(limit), "%d", per_page);
    snprintf(offset, sizeof(offset), "%lld", (long long)(page - 1) * per_page);
    const char *params[] = {limit, offset};
    return outcome_json_query(db, &event_list_stmt, 2, params, json);
}

enum db_status event_show(struct db *db, int64_t event_id, char **json)
{
    return event_json_by_id(db, &event_show_stmt, event_id, json);
}

enum db_status event_seat_map(struct db *db, int64_t event_id, char **json)
{
    return event_json_by_id(db, &event_seats_stmt, event_id, json);
}

enum db_status event_venue_show(struct db *db, int64_t venue_id, char **json)
{
    return event_json_by_id(db, &event_venue_stmt, venue_id, json);
}

enum db_status event_stats(struct db *db, int64_t event_id, char **json)
{
    return event_json_by_id(db, &event_stats_stmt, event_id, json);
}

enum db_status event_venue_create(struct db *db, const char *venue_json, char **json)
{
    const char *params[] = {venue_json};
    return outcome_json_query(db, &event_venue_create_stmt, 1, params, json);
}

enum db_status event_create(struct db *db, const char *event_json, char **json)
{
    const char *params[] = {event_json};
    return outcome_json_query(db, &event_create_stmt, 1, params, json);
}

enum db_status event_update(struct db *db, int64_t event_id, const char *changes_json,
                            char **json)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)event_id);
    const char *params[] = {id, changes_json};
    return outcome_json_query(db, &event_update_stmt, 2, params, json);
}
