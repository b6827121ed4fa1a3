/* db.h: the PostgreSQL connection behind an opaque handle. Statements are
 * prepared once per connection, on first use; a lost connection is
 * re-established on the next call. libpq types never leave db.c. */
#ifndef BOXOFFICE_DB_H
#define BOXOFFICE_DB_H

#include <stdbool.h>
#include <stdint.h>

struct db;
struct db_result;

/* A named SQL statement with $1..$n text parameters. Define them as
 * `static const struct db_statement` next to the code that runs them; the
 * name must be unique across the program. */
struct db_statement {
    const char *name;
    const char *sql;
};

enum db_status {
    DB_OK = 0,
    DB_UNAVAILABLE,   /* no connection; the outcome of a write is unknown */
    DB_UNIQUE,        /* unique_violation (23505) */
    DB_EXCLUSION,     /* exclusion_violation (23P01) */
    DB_CONSTRAINT,    /* any other integrity violation (class 23) */
    DB_RETRY,         /* serialization failure or deadlock: safe to retry */
    DB_INVALID_INPUT, /* data exception (class 22): bad value reached SQL */
    DB_ERROR          /* anything else: a bug or an operator problem */
};

/* Creates a handle and tries to connect. Returns NULL only when out of
 * memory; a handle whose first connection failed reconnects on use. */
struct db *db_open(const char *conninfo);
void db_close(struct db *db);

/* True when the connection is up, reconnecting first if it was lost. */
bool db_connected(struct db *db);

/* Runs a prepared statement with text parameters (NULL entries are SQL
 * NULL). On DB_OK, *out (when out is not NULL) receives a result the caller
 * frees with db_result_free. On failure *out is NULL and the error details
 * are readable through db_last_error until the next call. */
enum db_status db_run(struct db *db, const struct db_statement *stmt, int nparams,
                      const char *const *params, struct db_result **out)
    __attribute__((warn_unused_result));

/* Runs literal SQL with no parameters and no result rows (BEGIN, COMMIT,
 * migrations). Same status mapping as db_run. */
enum db_status db_exec(struct db *db, const char *sql) __attribute__((warn_unused_result));

/* The SQLSTATE, primary message and constraint name of the last failure
 * (empty strings when unknown). For logs; never for clients. */
const char *db_last_sqlstate(const struct db *db);
const char *db_last_error(const struct db *db);
const char *db_last_constraint(const struct db *db);

int db_rows(const struct db_result *r);
bool db_is_null(const struct db_result *r, int row, int col);
/* The text value; "" for NULL. Valid until db_result_free. */
const char *db_text(const struct db_result *r, int row, int col);
int64_t db_int64(const struct db_result *r, int row, int col);
bool db_bool(const struct db_result *r, int row, int col);
void db_result_free(struct db_result *r);

#endif
