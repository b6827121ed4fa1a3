/* validate.h: checks for untrusted input (JSON members, path segments,
 * query values) that turn text into typed values or a client error. Every
 * check has limits; nothing here allocates. */
#ifndef BOXOFFICE_VALIDATE_H
#define BOXOFFICE_VALIDATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A client error: a snake_case code such as "invalid_email" and a sentence
 * a client developer can act on. */
struct v_error {
    char code[64];
    char message[256];
};

enum v_presence { V_OPTIONAL, V_REQUIRED };

#define V_MAX_JSON_DEPTH 16
#define V_ID_MAX INT64_C(9007199254740991) /* 2^53-1: exact in JavaScript */

/* Fills err with code and a printf-style message; always returns false so
 * that checks can `return v_fail(...)`. */
bool v_fail(struct v_error *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses body (len bytes, not NUL-terminated) as one JSON object: strict
 * syntax, valid UTF-8, nesting at most V_MAX_JSON_DEPTH, nothing after it.
 * On success *out is a new reference the caller puts; on failure *out is
 * NULL and err says why ("invalid_json"). */
bool v_json_object(const char *body, size_t len, json_object **out, struct v_error *err);

/* Each member check: when the member is absent (or JSON null) and
 * V_OPTIONAL, returns true and leaves *out untouched; when absent and
 * V_REQUIRED, or present with the wrong type or out of range, fails with
 * code "invalid_<key>". */

/* A string of min_len..max_len bytes with no control characters; *out
 * points into obj and lives as long as obj. */
bool v_string(json_object *obj, const char *key, enum v_presence presence, size_t min_len,
              size_t max_len, const char **out, struct v_error *err);

/* A JSON integer (not a float, not a string) within [min, max]. */
bool v_int(json_object *obj, const char *key, enum v_presence presence, int64_t min, int64_t max,
           int64_t *out, struct v_error *err);

/* A JSON number (integer or not) within [min, max]. */
bool v_number(json_object *obj, const char *key, enum v_presence presence, double min, double max,
              double *out, struct v_error *err);

/* A string of 1..max_len characters, each an ASCII uppercase letter or a
 * digit (price categories, currency codes, country codes). */
bool v_code(json_object *obj, const char *key, enum v_presence presence, size_t min_len,
            size_t max_len, const char **out, struct v_error *err);

/* An array member with min_count..max_count elements; *out is borrowed. */
bool v_array(json_object *obj, const char *key, enum v_presence presence, size_t min_count,
             size_t max_count, json_object **out, struct v_error *err);

bool v_bool(json_object *obj, const char *key, enum v_presence presence, bool *out,
            struct v_error *err);

/* An array of min_count..max_count distinct ids (1..V_ID_MAX) written into
 * out (capacity max_count) with the count in *count. */
bool v_id_array(json_object *obj, const char *key, enum v_presence presence, size_t min_count,
                size_t max_count, int64_t *out, size_t *count, struct v_error *err);

/* An RFC 3339 timestamp with a time zone ("2026-12-01T20:00:00Z",
 * "2026-12-01T20:00:00+05:30"); *out points into obj. */
bool v_timestamp(json_object *obj, const char *key, enum v_presence presence, const char **out,
                 struct v_error *err);

/* True for a plausible e-mail address: one '@', non-empty local part, a
 * dot in the domain, 3..254 bytes, no spaces or control characters. */
bool v_is_email(const char *text);

/* True for an RFC 3339 timestamp as v_timestamp accepts. */
bool v_is_timestamp(const char *text);

/* True for a calendar date YYYY-MM-DD that exists. */
bool v_is_date(const char *text);

/* Parses decimal digits only (no sign, no spaces, no leading zeros but
 * "0") within [min, max]. */
bool v_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);

/* A positive id: v_parse_int with [1, V_ID_MAX]. */
bool v_parse_id(const char *text, int64_t *out);

#endif
