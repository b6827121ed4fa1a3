/* search_doc.c: the search documents of events and trains. */
#include "search_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool search_doc_present(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Adds key: value to obj, taking value; false (value freed) on failure. */
static bool search_doc_add(json_object *obj, const char *key, json_object *value)
{
    if (value == NULL)
        return false;
    if (json_object_object_add(obj, key, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

static bool search_doc_add_string(json_object *obj, const char *key, const char *value)
{
    return search_doc_add(obj, key, json_object_new_string(value));
}

/* A coordinate from its decimal text, kept as written (json-c would print
 * 19.0176 as 19.017600000000002); false when it is not a number within
 * [-limit, limit]. */
static bool search_doc_coordinate(json_object *obj, const char *key, const char *text, double limit)
{
    char *end = NULL;
    double value;
    if (!search_doc_present(text))
        return false;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= -limit && value <= limit))
        return false;
    return search_doc_add(obj, key, json_object_new_double_s(value, text));
}

json_object *search_doc_event(const struct search_event_row *row)
{
    char id[24];
    json_object *doc = NULL;
    json_object *location = NULL;

    if (row == NULL || row->id <= 0 || !search_doc_present(row->title) ||
        !search_doc_present(row->performer) || !search_doc_present(row->category) ||
        !search_doc_present(row->venue) || !search_doc_present(row->city) ||
        !search_doc_present(row->starts_at) || !search_doc_present(row->currency))
        return NULL;
    snprintf(id, sizeof(id), "%lld", (long long)row->id);
    doc = json_object_new_object();
    if (doc == NULL || !search_doc_add_string(doc, "id", id) ||
        !search_doc_add_string(doc, "type", "event") ||
        !search_doc_add_string(doc, "title", row->title) ||
        !search_doc_add_string(doc, "performer", row->performer) ||
        !search_doc_add_string(doc, "category", row->category) ||
        !search_doc_add_string(doc, "venue", row->venue) ||
        !search_doc_add_string(doc, "city", row->city))
        goto fail;
    if (row->has_location) {
        location = json_object_new_object();
        if (location == NULL || !search_doc_coordinate(location, "lat", row->latitude, 90.0) ||
            !search_doc_coordinate(location, "lon", row->longitude, 180.0)) {
            json_object_put(location);
            goto fail;
        }
        if (!search_doc_add(doc, "location", location))
            goto fail;
    }
    if (!search_doc_add_string(doc, "starts_at", row->starts_at))
        goto fail;
    if (row->has_prices &&
        (!search_doc_add(doc, "price_min", json_object_new_int64(row->price_min)) ||
         !search_doc_add(doc, "price_max", json_object_new_int64(row->price_max))))
        goto fail;
    if (!search_doc_add_string(doc, "currency", row->currency) ||
        !search_doc_add(doc, "seats_available", json_object_new_int64(row->seats_available)))
        goto fail;
    return doc;
fail:
    json_object_put(doc);
    return NULL;
}

/* Parses text as a JSON array whose elements are all strings. */
static json_object *search_doc_string_array(const char *text)
{
    json_object *array;
    if (!search_doc_present(text))
        return NULL;
    array = json_tokener_parse(text);
    if (array == NULL || !json_object_is_type(array, json_type_array))
        goto fail;
    for (size_t i = 0; i < json_object_array_length(array); i++)
        if (!json_object_is_type(json_object_array_get_idx(array, i), json_type_string))
            goto fail;
    return array;
fail:
    json_object_put(array);
    return NULL;
}

/* Copies the stops, checking each is {"code": string, "name": string,
 * "index": int}, and collects their codes in order. */
static bool search_doc_stops(const char *text, json_object **stops_out, json_object **codes_out)
{
    json_object *parsed = NULL;
    json_object *stops = json_object_new_array();
    json_object *codes = json_object_new_array();

    *stops_out = NULL;
    *codes_out = NULL;
    if (stops == NULL || codes == NULL || !search_doc_present(text))
        goto fail;
    parsed = json_tokener_parse(text);
    if (parsed == NULL || !json_object_is_type(parsed, json_type_array))
        goto fail;
    for (size_t i = 0; i < json_object_array_length(parsed); i++) {
        json_object *in = json_object_array_get_idx(parsed, i);
        json_object *code = NULL, *name = NULL, *index = NULL;
        json_object *out;
        if (!json_object_object_get_ex(in, "code", &code) ||
            !json_object_is_type(code, json_type_string) ||
            !json_object_object_get_ex(in, "name", &name) ||
            !json_object_is_type(name, json_type_string) ||
            !json_object_object_get_ex(in, "index", &index) ||
            !json_object_is_type(index, json_type_int))
            goto fail;
        out = json_object_new_object();
        if (out == NULL)
            goto fail;
        if (!search_doc_add_string(out, "code", json_object_get_string(code)) ||
            !search_doc_add_string(out, "name", json_object_get_string(name)) ||
            !search_doc_add(out, "index", json_object_new_int64(json_object_get_int64(index))) ||
            json_object_array_add(stops, out) != 0) {
            json_object_put(out);
            goto fail;
        }
        json_object *code_copy = json_object_new_string(json_object_get_string(code));
        if (code_copy == NULL || json_object_array_add(codes, code_copy) != 0) {
            json_object_put(code_copy);
            goto fail;
        }
    }
    json_object_put(parsed);
    *stops_out = stops;
    *codes_out = codes;
    return true;
fail:
    json_object_put(parsed);
    json_object_put(stops);
    json_object_put(codes);
    return false;
}

json_object *search_doc_train(const struct search_train_row *row)
{
    json_object *doc = NULL;
    json_object *stops = NULL;
    json_object *codes = NULL;
    json_object *run_days = NULL;
    json_object *classes = NULL;

    if (row == NULL || !search_doc_present(row->number) || !search_doc_present(row->name))
        return NULL;
    run_days = search_doc_string_array(row->run_days_json);
    classes = search_doc_string_array(row->classes_json);
    if (run_days == NULL || classes == NULL || !search_doc_stops(row->stops_json, &stops, &codes))
        goto fail;
    doc = json_object_new_object();
    if (doc == NULL || !search_doc_add_string(doc, "id", row->number) ||
        !search_doc_add_string(doc, "type", "train") ||
        !search_doc_add_string(doc, "number", row->number) ||
        !search_doc_add_string(doc, "name", row->name))
        goto fail;
    /* Each add takes its value, also on failure. */
    {
        struct {
            const char *key;
            json_object **value;
        } members[] = {{"stops", &stops},
                       {"station_codes", &codes},
                       {"run_days", &run_days},
                       {"classes", &classes}};
        for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
            json_object *value = *members[i].value;
            *members[i].value = NULL;
            if (!search_doc_add(doc, members[i].key, value))
                goto fail;
        }
    }
    return doc;
fail:
    json_object_put(doc);
    json_object_put(stops);
    json_object_put(codes);
    json_object_put(run_days);
    json_object_put(classes);
    return NULL;
}

const char *search_doc_id(json_object *doc)
{
    json_object *id = NULL;
    if (!json_object_object_get_ex(doc, "id", &id) || !json_object_is_type(id, json_type_string))
        return NULL;
    return json_object_get_string(id);
}
