/* outcome.c: shared helpers for domain calls that return JSON from SQL. */
#include "outcome.h"

#include <stdlib.h>
#include <string.h>

enum db_status outcome_json_query(struct db *db, const struct db_statement *stmt, int nparams,
                                  const char *const *params, char **json)
{
    struct db_result *r = NULL;
    *json = NULL;
    enum db_status st = db_run(db, stmt, nparams, params, &r);
    if (st != DB_OK)
        return st;
    if (db_rows(r) == 1 && !db_is_null(r, 0, 0)) {
        *json = strdup(db_text(r, 0, 0));
        if (*json == NULL)
            st = DB_ERROR;
    }
    db_result_free(r);
    return st;
}
