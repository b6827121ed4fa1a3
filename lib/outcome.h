/* outcome.h: how a domain call ended when it could not do its work for a
 * reason outside the caller's request: the database was unreachable, or
 * failed in a way only the logs can explain. Domain modules embed these as
 * the first members of their own outcome enums' ranges. */
#ifndef BOXOFFICE_OUTCOME_H
#define BOXOFFICE_OUTCOME_H

#include "db.h"

/* Copies the text of the one-row, one-column result of stmt into *json
 * (malloc'd, caller frees) or NULL when the row is absent or SQL NULL.
 * Returns the statement's status. */
enum db_status outcome_json_query(struct db *db, const struct db_statement *stmt, int nparams,
                                  const char *const *params, char **json)
    __attribute__((warn_unused_result));

#endif
