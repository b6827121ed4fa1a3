/* event.h: events, venues and seat maps: reads for buyers, writes for
 * admins. JSON answers are built by PostgreSQL and passed through. */
#ifndef BOXOFFICE_EVENT_H
#define BOXOFFICE_EVENT_H

#include <stdint.h>

#include "db.h"

/* Each function returns the statement's status; on DB_OK *json is the
 * answer (malloc'd, caller frees) or NULL when the thing does not exist. */

enum db_status event_list(struct db *db, int page, int per_page, char **json)
    __attribute__((warn_unused_result));
enum db_status event_show(struct db *db, int64_t event_id, char **json)
    __attribute__((warn_unused_result));
enum db_status event_seat_map(struct db *db, int64_t event_id, char **json)
    __attribute__((warn_unused_result));
enum db_status event_venue_show(struct db *db, int64_t venue_id, char **json)
    __attribute__((warn_unused_result));
enum db_status event_stats(struct db *db, int64_t event_id, char **json)
    __attribute__((warn_unused_result));

/* Creates a venue from a JSON description already validated by the
 * caller (see venue_create in sql/functions); *json is the new venue. */
enum db_status event_venue_create(struct db *db, const char *venue_json, char **json)
    __attribute__((warn_unused_result));

/* Creates an event from validated JSON; *json is NULL when the venue does
 * not exist. DB_CONSTRAINT when a section's category has no price. */
enum db_status event_create(struct db *db, const char *event_json, char **json)
    __attribute__((warn_unused_result));

/* Applies validated changes; *json is NULL when the event does not exist. */
enum db_status event_update(struct db *db, int64_t event_id, const char *changes_json,
                            char **json) __attribute__((warn_unused_result));

#endif
