/* validate.c: checks for untrusted input, each with limits. */
#include "validate.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool v_fail(struct v_error *err, const char *code, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->code, sizeof(err->code), "%s", code);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return false;
}

static bool v_invalid(struct v_error *err, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool v_invalid(struct v_error *err, const char *key, const char *fmt, ...)
{
    va_list ap;
    snprintf(err->code, sizeof(err->code), "invalid_%s", key);
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return false;
}

/* json-c accepts NaN and Infinity even in strict mode; JSON does not. */
static bool v_all_finite(json_object *obj)
{
    switch (json_object_get_type(obj)) {
    case json_type_double:
        return isfinite(json_object_get_double(obj));
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(obj); i++) {
            if (!v_all_finite(json_object_array_get_idx(obj, i)))
                return false;
        }
        return true;
    case json_type_object: {
        json_object_object_foreach(obj, key, value)
        {
            (void)key;
            if (!v_all_finite(value))
                return false;
        }
        return true;
    }
    default:
        return true;
    }
}

bool v_json_object(const char *body, size_t len, json_object **out, struct v_error *err)
{
    json_tokener *tok = NULL;
    json_object *obj = NULL;
    bool ok = false;

    *out = NULL;
    if (body == NULL || len == 0)
        return v_fail(err, "invalid_json", "the request body must be a JSON object");
    if (len > INT32_MAX)
        return v_fail(err, "invalid_json", "the request body is too large");
    tok = json_tokener_new_ex(V_MAX_JSON_DEPTH);
    if (tok == NULL)
        return v_fail(err, "invalid_json", "the request body could not be parsed");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    if (obj == NULL || jerr != json_tokener_success) {
        v_fail(err, "invalid_json", "the request body is not valid JSON: %s",
               jerr == json_tokener_continue ? "unexpected end of input"
                                              : json_tokener_error_desc(jerr));
        goto done;
    }
    /* Trailing whitespace is fine; any other byte after the value is not. */
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (strchr(" \t\r\n", body[i]) == NULL) {
            v_fail(err, "invalid_json", "the request body has data after the JSON value");
            goto done;
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        v_fail(err, "invalid_json", "the request body must be a JSON object");
        goto done;
    }
    if (!v_all_finite(obj)) {
        v_fail(err, "invalid_json", "the request body is not valid JSON: NaN or Infinity");
        goto done;
    }
    *out = obj;
    obj = NULL;
    ok = true;
done:
    json_object_put(obj);
    json_tokener_free(tok);
    return ok;
}

/* Looks up key; JSON null counts as absent. Returns false (with err set)
 * only for a required member that is absent. */
static bool v_member(json_object *obj, const char *key, enum v_presence presence,
                     json_object **member, struct v_error *err)
{
    *member = NULL;
    if (obj != NULL)
        json_object_object_get_ex(obj, key, member);
    if (*member != NULL && json_object_is_type(*member, json_type_null))
        *member = NULL;
    if (*member == NULL && presence == V_REQUIRED)
        return v_invalid(err, key, "%s is required", key);
    return true;
}

bool v_string(json_object *obj, const char *key, enum v_presence presence, size_t min_len,
              size_t max_len, const char **out, struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_string))
        return v_invalid(err, key, "%s must be a string", key);
    const char *s = json_object_get_string(m);
    size_t len = (size_t)json_object_get_string_len(m);
    if (len < min_len || len > max_len)
        return v_invalid(err, key, "%s must be %zu to %zu bytes long", key, min_len, max_len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return v_invalid(err, key, "%s must not contain control characters", key);
    }
    *out = s;
    return true;
}

bool v_int(json_object *obj, const char *key, enum v_presence presence, int64_t min, int64_t max,
           int64_t *out, struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_int))
        return v_invalid(err, key, "%s must be an integer", key);
    int64_t n = json_object_get_int64(m);
    /* json-c saturates out-of-range literals; the range check catches them. */
    if (n < min || n > max)
        return v_invalid(err, key, "%s must be from %lld to %lld", key, (long long)min,
                         (long long)max);
    *out = n;
    return true;
}

bool v_number(json_object *obj, const char *key, enum v_presence presence, double min, double max,
              double *out, struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_int) && !json_object_is_type(m, json_type_double))
        return v_invalid(err, key, "%s must be a number", key);
    double d = json_object_get_double(m);
    if (!(d >= min && d <= max))
        return v_invalid(err, key, "%s must be from %g to %g", key, min, max);
    *out = d;
    return true;
}

bool v_code(json_object *obj, const char *key, enum v_presence presence, size_t min_len,
            size_t max_len, const char **out, struct v_error *err)
{
    const char *s = NULL;
    if (!v_string(obj, key, presence, min_len, max_len, &s, err))
        return false;
    if (s == NULL)
        return true;
    for (const char *p = s; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return v_invalid(err, key, "%s must be uppercase letters and digits", key);
    }
    *out = s;
    return true;
}

bool v_array(json_object *obj, const char *key, enum v_presence presence, size_t min_count,
             size_t max_count, json_object **out, struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_array))
        return v_invalid(err, key, "%s must be an array", key);
    size_t n = json_object_array_length(m);
    if (n < min_count || n > max_count)
        return v_invalid(err, key, "%s must have %zu to %zu elements", key, min_count, max_count);
    *out = m;
    return true;
}

bool v_bool(json_object *obj, const char *key, enum v_presence presence, bool *out,
            struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_boolean))
        return v_invalid(err, key, "%s must be true or false", key);
    *out = json_object_get_boolean(m);
    return true;
}

bool v_id_array(json_object *obj, const char *key, enum v_presence presence, size_t min_count,
                size_t max_count, int64_t *out, size_t *count, struct v_error *err)
{
    json_object *m;
    if (!v_member(obj, key, presence, &m, err))
        return false;
    if (m == NULL)
        return true;
    if (!json_object_is_type(m, json_type_array))
        return v_invalid(err, key, "%s must be an array of ids", key);
    size_t n = json_object_array_length(m);
    if (n < min_count || n > max_count)
        return v_invalid(err, key, "%s must hold %zu to %zu ids", key, min_count, max_count);
    for (size_t i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(m, i);
        if (!json_object_is_type(item, json_type_int))
            return v_invalid(err, key, "%s must hold integer ids only", key);
        int64_t id = json_object_get_int64(item);
        if (id < 1 || id > V_ID_MAX)
            return v_invalid(err, key, "%s holds an id out of range", key);
        /* Arrays are capped small, so a quadratic scan is the cheap check. */
        for (size_t j = 0; j < i; j++) {
            if (out[j] == id)
                return v_invalid(err, key, "%s holds id %lld twice", key, (long long)id);
        }
        out[i] = id;
    }
    *count = n;
    return true;
}

bool v_timestamp(json_object *obj, const char *key, enum v_presence presence, const char **out,
                 struct v_error *err)
{
    const char *s = NULL;
    if (!v_string(obj, key, presence, 1, 40, &s, err))
        return false;
    if (s == NULL)
        return true;
    if (!v_is_timestamp(s))
        return v_invalid(err, key, "%s must be an RFC 3339 time such as 2026-12-01T20:00:00Z",
                         key);
    *out = s;
    return true;
}

static bool v_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static int v_digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static bool v_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static bool v_date_exists(int year, int month, int day)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1)
        return false;
    int max = days[month - 1] + (month == 2 && v_is_leap(year) ? 1 : 0);
    return day <= max;
}

bool v_is_date(const char *s)
{
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!v_digits(s, 4) || !v_digits(s + 5, 2) || !v_digits(s + 8, 2))
        return false;
    return v_date_exists(v_digits_value(s, 4), v_digits_value(s + 5, 2), v_digits_value(s + 8, 2));
}

bool v_is_timestamp(const char *s)
{
    size_t len = strlen(s);
    char date[11];
    if (len < 20)
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (!v_is_date(date) || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
        return false;
    const char *t = s + 11;
    if (!v_digits(t, 2) || t[2] != ':' || !v_digits(t + 3, 2) || t[5] != ':' ||
        !v_digits(t + 6, 2))
        return false;
    if (v_digits_value(t, 2) > 23 || v_digits_value(t + 3, 2) > 59 || v_digits_value(t + 6, 2) > 60)
        return false;
    const char *z = t + 8;
    if (*z == '.') {
        z++;
        size_t frac = 0;
        while (z[frac] >= '0' && z[frac] <= '9')
            frac++;
        if (frac == 0 || frac > 9)
            return false;
        z += frac;
    }
    if ((z[0] == 'Z' || z[0] == 'z') && z[1] == '\0')
        return true;
    if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && v_digits(z + 1, 2) && z[3] == ':' &&
        v_digits(z + 4, 2))
        return v_digits_value(z + 1, 2) <= 23 && v_digits_value(z + 4, 2) <= 59;
    return false;
}

bool v_is_email(const char *s)
{
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len < 3 || len > 254 || at == NULL || at == s || strchr(at + 1, '@') != NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == '\\')
            return false;
    }
    const char *dot = strrchr(at + 1, '.');
    return dot != NULL && dot != at + 1 && dot[1] != '\0';
}

bool v_parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    size_t len = text != NULL ? strlen(text) : 0;
    uint64_t n = 0;
    if (len == 0 || len > 19 || !v_digits(text, len) || (len > 1 && text[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++)
        n = n * 10 + (uint64_t)(text[i] - '0');
    if (n > (uint64_t)INT64_MAX || (int64_t)n < min || (int64_t)n > max)
        return false;
    *out = (int64_t)n;
    return true;
}

bool v_parse_id(const char *text, int64_t *out)
{
    return v_parse_int(text, 1, V_ID_MAX, out);
}
