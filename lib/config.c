/* config.c: the process configuration as one declarative table. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum config_type { CONFIG_STRING, CONFIG_INT };

struct config_key {
    const char *name;
    enum config_type type;
    size_t offset;
    const char *default_value;
    bool secret;
    int min, max; /* for CONFIG_INT */
};

#define STR(field, def, secret)                                                                    \
    {#field, CONFIG_STRING, offsetof(struct config, field), def, secret, 0, 0}
#define INT(field, def, lo, hi) {#field, CONFIG_INT, offsetof(struct config, field), def, false, lo, hi}

static const struct config_key config_keys[] = {
    STR(database_url, "dbname=boxoffice", false),
    STR(fcgi_socket, ".state/run/fcgi.sock", false),
    INT(workers, "0", 0, 256),
    STR(log_level, "info", false),
    STR(secrets_file, "", false),
    STR(token_secret, "", true),
    INT(password_cost, "5", 1, 11),
    INT(session_ttl_s, "2592000", 60, 31536000),
    INT(max_body_bytes, "1048576", 1024, 16777216),
    INT(sold_out_cache_ms, "1000", 0, 60000),
    INT(session_memory_ms, "60000", 0, 600000),
    INT(sweep_interval_ms, "1000", 50, 60000),
    STR(payment_base_url, "http://127.0.0.1:12111", false),
    STR(payment_secret_key, "", true),
    STR(payment_webhook_secret, "", true),
    INT(payment_timeout_ms, "10000", 100, 120000),
    STR(es_url, "", false),
    INT(search_cache_ms, "0", 0, 1000),
    STR(cookie_secure, "no", false),
};

#define CONFIG_KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

static const struct config_key *config_find(const char *name)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    }
    return NULL;
}

bool config_is_secret(const char *key)
{
    const struct config_key *k = config_find(key);
    return k != NULL && k->secret;
}

bool config_set(struct config *cfg, const char *key, const char *value, char *err, size_t errlen)
{
    const struct config_key *k = config_find(key);
    char *base = (char *)cfg;

    if (k == NULL) {
        snprintf(err, errlen, "unknown configuration key '%s'", key);
        return false;
    }
    if (k->type == CONFIG_STRING) {
        size_t len = strlen(value);
        if (len >= CONFIG_STRING_MAX) {
            snprintf(err, errlen, "value of '%s' is longer than %d bytes", key,
                     CONFIG_STRING_MAX - 1);
            return false;
        }
        memcpy(base + k->offset, value, len + 1);
        return true;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno != 0 || end == value || *end != '\0' || n < k->min || n > k->max) {
        snprintf(err, errlen, "'%s' must be an integer from %d to %d", key, k->min, k->max);
        return false;
    }
    *(int *)(base + k->offset) = (int)n;
    return true;
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* Reads `key = value` lines; '#' starts a comment line. */
static bool config_read_file(struct config *cfg, const char *path, bool must_be_private,
                             char *err, size_t errlen)
{
    FILE *f = NULL;
    char line[1024];
    int lineno = 0;
    bool ok = false;
    struct stat st;

    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto done;
    }
    if (must_be_private) {
        if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077) != 0) {
            snprintf(err, errlen, "%s holds secrets and must be mode 0600", path);
            goto done;
        }
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *text = config_trim(line);
        if (*text == '\0' || *text == '#')
            continue;
        char *eq = strchr(text, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
            goto done;
        }
        *eq = '\0';
        char msg[256];
        if (!config_set(cfg, config_trim(text), config_trim(eq + 1), msg, sizeof(msg))) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            goto done;
        }
    }
    ok = true;
done:
    if (f != NULL)
        fclose(f);
    return ok;
}

static bool config_read_environment(struct config *cfg, char *err, size_t errlen)
{
    char env_name[96];
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        size_t j = 0;
        int n = snprintf(env_name, sizeof(env_name), "BOXOFFICE_");
        for (j = 0; config_keys[i].name[j] != '\0' && n + j + 1 < sizeof(env_name); j++)
            env_name[n + j] = (char)toupper((unsigned char)config_keys[i].name[j]);
        env_name[n + j] = '\0';
        const char *value = getenv(env_name);
        if (value != NULL && !config_set(cfg, config_keys[i].name, value, err, errlen))
            return false;
    }
    /* The search tier's documented switch is the plain ES_URL variable. */
    const char *es = getenv("ES_URL");
    if (es != NULL && !config_set(cfg, "es_url", es, err, errlen))
        return false;
    return true;
}

bool config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (!config_set(cfg, config_keys[i].name, config_keys[i].default_value, err, errlen))
            return false;
    }
    if (path != NULL && path[0] != '\0' && !config_read_file(cfg, path, false, err, errlen))
        return false;
    /* The environment may name the secrets file, so read it first. */
    if (!config_read_environment(cfg, err, errlen))
        return false;
    if (cfg->secrets_file[0] != '\0') {
        if (!config_read_file(cfg, cfg->secrets_file, true, err, errlen))
            return false;
        /* The environment wins over both files. */
        if (!config_read_environment(cfg, err, errlen))
            return false;
    }
    return true;
}
