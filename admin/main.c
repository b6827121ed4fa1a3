/* main.c: boxoffice-admin: operator jobs from the command line.
 *   boxoffice-admin [-c CONFIG] ensure-admin EMAIL NAME
 *       creates or updates the admin account; the password comes from
 *       BOXOFFICE_ADMIN_PASSWORD (never from the command line, which other
 *       users can read). */
#include "account.h"
#include "config.h"
#include "db.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int admin_ensure_admin(const struct config *cfg, const char *email, const char *name)
{
    const char *password = getenv("BOXOFFICE_ADMIN_PASSWORD");
    enum db_status st;
    int status = 1;
    if (password == NULL || strlen(password) < 8) {
        log_error(NULL, "BOXOFFICE_ADMIN_PASSWORD must hold a password of 8 or more bytes");
        return 2;
    }
    struct db *db = db_open(cfg->database_url);
    if (db == NULL || !db_connected(db)) {
        log_error(NULL, "cannot connect to the database: %s", db != NULL ? db_last_error(db) : "");
        goto done;
    }
    if (account_ensure_admin(db, email, name, password, cfg->password_cost, &st) != ACCOUNT_OK) {
        log_error(NULL, "cannot save the admin account: %s", db_last_error(db));
        goto done;
    }
    status = 0;
done:
    db_close(db);
    return status;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[512];
    const char *path = getenv("BOXOFFICE_CONFIG");
    int i = 1;

    log_init("boxoffice-admin", LOG_LEVEL_INFO);
    if (argc > 2 && strcmp(argv[1], "-c") == 0) {
        path = argv[2];
        i = 3;
    }
    if (!config_load(path, &cfg, err, sizeof(err))) {
        log_error(NULL, "configuration: %s", err);
        return 2;
    }
    if (argc - i == 3 && strcmp(argv[i], "ensure-admin") == 0)
        return admin_ensure_admin(&cfg, argv[i + 1], argv[i + 2]);
    fprintf(stderr, "usage: boxoffice-admin [-c CONFIG] ensure-admin EMAIL NAME\n");
    return 2;
}
