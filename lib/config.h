/* config.h: the process configuration, one `key = value` file plus
 * environment overrides (BOXOFFICE_<KEY>), secrets from a 0600 file. */
#ifndef BOXOFFICE_CONFIG_H
#define BOXOFFICE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_STRING_MAX 512

struct config {
    char database_url[CONFIG_STRING_MAX]; /* libpq conninfo */
    char fcgi_socket[CONFIG_STRING_MAX];  /* unix socket path the workers accept on */
    int workers;                          /* 0: two per core */
    char log_level[16];
    char secrets_file[CONFIG_STRING_MAX]; /* optional, must be mode 0600 */
    char token_secret[CONFIG_STRING_MAX]; /* secret: HMAC key for signed tokens */
    int password_cost;                    /* yescrypt cost factor */
    int session_ttl_s;
    int max_body_bytes;
    int sold_out_cache_ms; /* how long a worker trusts a sold-out answer */
    int session_memory_ms; /* how long a confirmed session may be answered sold-out from memory */
    int sweep_interval_ms; /* boxoffice-worker's period */
    char payment_base_url[CONFIG_STRING_MAX];
    char payment_secret_key[CONFIG_STRING_MAX];     /* secret */
    char payment_webhook_secret[CONFIG_STRING_MAX]; /* secret */
    int payment_timeout_ms;
    char es_url[CONFIG_STRING_MAX]; /* empty: PostgreSQL full-text search */
    int search_cache_ms;            /* how long a worker may reuse a search answer; 0: off */
    char cookie_secure[8];          /* "yes" adds Secure to cookies */
};

/* Fills *cfg with defaults, then the file at path (NULL or "" for none),
 * then the secrets file it names, then the environment. Returns true on
 * success; on failure writes a reason into err (errlen bytes) and *cfg holds
 * defaults merged with whatever was read. Unknown keys are an error so that
 * typos do not pass silently. */
bool config_load(const char *path, struct config *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Sets one key from its text form; false if the key is unknown or the value
 * does not parse. Used by the loader and by tests. */
bool config_set(struct config *cfg, const char *key, const char *value, char *err,
                size_t errlen);

/* True for keys whose values must never be printed. */
bool config_is_secret(const char *key);

#endif
