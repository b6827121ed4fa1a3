/* main.c: boxoffice-admin: operator jobs from the command line.
 *   boxoffice-admin [-c CONFIG] ensure-admin EMAIL NAME
 *       creates or updates the admin account; the password comes from
 *       BOXOFFICE_ADMIN_PASSWORD (never from the command line, which other
 *       users can read).
 *   boxoffice-admin [-c CONFIG] import-trains [--stations FILE] [--trains FILE]
 *       imports stations (GeoJSON) and trains (the dictionary format of
 *       trains_dict.json) in one transaction, idempotently, and prints the
 *       report (JSON) on standard output. */
#include "account.h"
#include "train.h"
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

#define ADMIN_IMPORT_MAX_BYTES (256L * 1024 * 1024)

/* Reads a whole file into a NUL-terminated malloc'd buffer; NULL (logged)
 * when it cannot be read, is empty, or exceeds ADMIN_IMPORT_MAX_BYTES. */
static char *admin_read_file(const char *path)
{
    char *text = NULL;
    long size;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        log_error(NULL, "cannot open %s", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 || size > ADMIN_IMPORT_MAX_BYTES ||
        fseek(f, 0, SEEK_SET) != 0) {
        log_error(NULL, "%s is empty, unreadable or larger than %ld bytes", path,
                  ADMIN_IMPORT_MAX_BYTES);
        goto failed;
    }
    text = malloc((size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size) {
        log_error(NULL, "cannot read %s", path);
        goto failed;
    }
    text[size] = '\0';
    fclose(f);
    return text;
failed:
    free(text);
    fclose(f);
    return NULL;
}

static int admin_import_trains(const struct config *cfg, int argc, char **argv)
{
    const char *stations_path = NULL, *trains_path = NULL;
    char *stations = NULL, *trains = NULL, *report = NULL;
    struct db *db = NULL;
    int status = 1;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--stations") == 0 && i + 1 < argc)
            stations_path = argv[++i];
        else if (strcmp(argv[i], "--trains") == 0 && i + 1 < argc)
            trains_path = argv[++i];
        else
            return 2;
    }
    if (stations_path == NULL && trains_path == NULL)
        return 2;
    if ((stations_path != NULL && (stations = admin_read_file(stations_path)) == NULL) ||
        (trains_path != NULL && (trains = admin_read_file(trains_path)) == NULL))
        goto done;
    db = db_open(cfg->database_url);
    if (db == NULL || !db_connected(db)) {
        log_error(NULL, "cannot connect to the database: %s", db != NULL ? db_last_error(db) : "");
        goto done;
    }
    enum db_status st = train_import(db, stations, trains, &report);
    if (st != DB_OK || report == NULL) {
        log_error(NULL, "import failed, nothing changed: %s", db_last_error(db));
        goto done;
    }
    printf("%s\n", report);
    status = 0;
done:
    free(report);
    free(stations);
    free(trains);
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
    if (argc - i >= 1 && strcmp(argv[i], "import-trains") == 0) {
        int status = admin_import_trains(&cfg, argc - i - 1, argv + i + 1);
        if (status != 2)
            return status;
    }
    fprintf(stderr, "usage: boxoffice-admin [-c CONFIG] ensure-admin EMAIL NAME\n"
                    "       boxoffice-admin [-c CONFIG] import-trains [--stations FILE] "
                    "[--trains FILE]\n");
    return 2;
}
