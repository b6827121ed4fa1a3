/* db.c: libpq behind an opaque handle, with per-connection prepared
 * statements and reconnection. */
#include "db.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DB_MAX_PREPARED 256

struct db {
    PGconn *conn;
    char *conninfo;
    /* Statements prepared on this connection, by address: names are unique
     * and the structs are static, so a pointer compare identifies them. */
    const struct db_statement *prepared[DB_MAX_PREPARED];
    int prepared_count;
    char sqlstate[6];
    char error[512];
    char constraint[128];
};

struct db_result {
    PGresult *res;
};

static void db_clear_error(struct db *db)
{
    db->sqlstate[0] = '\0';
    db->error[0] = '\0';
    db->constraint[0] = '\0';
}

static void db_copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

static bool db_connect(struct db *db)
{
    if (db->conn != NULL) {
        PQfinish(db->conn);
        db->conn = NULL;
    }
    db->prepared_count = 0;
    db->conn = PQconnectdb(db->conninfo);
    if (db->conn == NULL)
        return false;
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db_copy(db->error, sizeof(db->error), PQerrorMessage(db->conn));
        PQfinish(db->conn);
        db->conn = NULL;
        return false;
    }
    return true;
}

struct db *db_open(const char *conninfo)
{
    struct db *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return NULL;
    db->conninfo = strdup(conninfo);
    if (db->conninfo == NULL) {
        free(db);
        return NULL;
    }
    db_connect(db);
    return db;
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    if (db->conn != NULL)
        PQfinish(db->conn);
    free(db->conninfo);
    free(db);
}

bool db_connected(struct db *db)
{
    if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
        return true;
    return db_connect(db);
}

static enum db_status db_status_from_sqlstate(const char *state)
{
    if (state == NULL || strlen(state) != 5)
        return DB_ERROR;
    if (strcmp(state, "23505") == 0)
        return DB_UNIQUE;
    if (strcmp(state, "23P01") == 0)
        return DB_EXCLUSION;
    if (strncmp(state, "23", 2) == 0)
        return DB_CONSTRAINT;
    if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return DB_RETRY;
    if (strncmp(state, "22", 2) == 0)
        return DB_INVALID_INPUT;
    /* Class 08 (connection) and 57P (shutdown) mean the server went away. */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return DB_UNAVAILABLE;
    return DB_ERROR;
}

/* Records the error of a failed result and maps it to a status. A broken
 * connection is dropped so that the next call reconnects. */
static enum db_status db_fail(struct db *db, PGresult *res)
{
    enum db_status status;
    if (res != NULL) {
        db_copy(db->sqlstate, sizeof(db->sqlstate), PQresultErrorField(res, PG_DIAG_SQLSTATE));
        db_copy(db->error, sizeof(db->error),
                PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        db_copy(db->constraint, sizeof(db->constraint),
                PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME));
    }
    if (db->error[0] == '\0')
        db_copy(db->error, sizeof(db->error), PQerrorMessage(db->conn));
    status = db_status_from_sqlstate(db->sqlstate);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        status = DB_UNAVAILABLE;
        PQfinish(db->conn);
        db->conn = NULL;
        db->prepared_count = 0;
    }
    if (res != NULL)
        PQclear(res);
    return status;
}

static bool db_is_prepared(const struct db *db, const struct db_statement *stmt)
{
    for (int i = 0; i < db->prepared_count; i++) {
        if (db->prepared[i] == stmt)
            return true;
    }
    return false;
}

static enum db_status db_prepare(struct db *db, const struct db_statement *stmt)
{
    if (db->prepared_count >= DB_MAX_PREPARED) {
        db_copy(db->error, sizeof(db->error), "too many prepared statements");
        return DB_ERROR;
    }
    PGresult *res = PQprepare(db->conn, stmt->name, stmt->sql, 0, NULL);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
        return db_fail(db, res);
    PQclear(res);
    db->prepared[db->prepared_count++] = stmt;
    return DB_OK;
}

static enum db_status db_finish(struct db *db, PGresult *res, struct db_result **out)
{
    ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        return db_fail(db, res);
    if (out == NULL) {
        PQclear(res);
        return DB_OK;
    }
    *out = malloc(sizeof(**out));
    if (*out == NULL) {
        PQclear(res);
        db_copy(db->error, sizeof(db->error), "out of memory");
        return DB_ERROR;
    }
    (*out)->res = res;
    return DB_OK;
}

enum db_status db_run(struct db *db, const struct db_statement *stmt, int nparams,
                      const char *const *params, struct db_result **out)
{
    enum db_status status;
    if (out != NULL)
        *out = NULL;
    db_clear_error(db);
    if (!db_connected(db))
        return DB_UNAVAILABLE;
    if (!db_is_prepared(db, stmt)) {
        status = db_prepare(db, stmt);
        if (status != DB_OK)
            return status;
    }
    PGresult *res = PQexecPrepared(db->conn, stmt->name, nparams, params, NULL, NULL, 0);
    return db_finish(db, res, out);
}

enum db_status db_exec(struct db *db, const char *sql)
{
    db_clear_error(db);
    if (!db_connected(db))
        return DB_UNAVAILABLE;
    return db_finish(db, PQexec(db->conn, sql), NULL);
}

const char *db_last_sqlstate(const struct db *db)
{
    return db->sqlstate;
}

const char *db_last_error(const struct db *db)
{
    return db->error;
}

const char *db_last_constraint(const struct db *db)
{
    return db->constraint;
}

int db_rows(const struct db_result *r)
{
    return PQntuples(r->res);
}

bool db_is_null(const struct db_result *r, int row, int col)
{
    return PQgetisnull(r->res, row, col) != 0;
}

const char *db_text(const struct db_result *r, int row, int col)
{
    return PQgetvalue(r->res, row, col);
}

int64_t db_int64(const struct db_result *r, int row, int col)
{
    return strtoll(PQgetvalue(r->res, row, col), NULL, 10);
}

bool db_bool(const struct db_result *r, int row, int col)
{
    return PQgetvalue(r->res, row, col)[0] == 't';
}

void db_result_free(struct db_result *r)
{
    if (r == NULL)
        return;
    PQclear(r->res);
    free(r);
}
