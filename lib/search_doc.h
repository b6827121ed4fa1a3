/* search_doc.h: the search documents, built in one place for both backends
 * (ElasticSearch indexes them as they are; PostgreSQL stores them in
 * search_documents and derives its search columns from them). Their shapes
 * are the ones es-mappings/README.md documents. */
#ifndef BOXOFFICE_SEARCH_DOC_H
#define BOXOFFICE_SEARCH_DOC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The source of an event document (one row of search_event_source).
 * Strings are borrowed; NULL or "" where the column is NULL. */
struct search_event_row {
    int64_t id;
    const char *title;
    const char *performer;
    const char *category;
    const char *venue;
    const char *city;
    bool has_location;    /* latitude and longitude both known */
    const char *latitude; /* decimal text as stored, so it is sent unchanged */
    const char *longitude;
    const char *starts_at; /* RFC 3339, UTC */
    bool has_prices;
    int64_t price_min; /* minor units */
    int64_t price_max;
    const char *currency;
    int64_t seats_available;
};

/* {"id","type":"event","title","performer","category","venue","city",
 *  "location"{"lat","lon"} (only with has_location),"starts_at",
 *  "price_min","price_max" (only with has_prices),"currency",
 *  "seats_available"}. Returns a new reference, or NULL when a required
 * string (title, performer, category, venue, city, starts_at, currency) is
 * missing, the id is not positive, a coordinate is not a number within
 * range, or out of memory. */
json_object *search_doc_event(const struct search_event_row *row);

/* The source of a train document: run_days and classes are JSON arrays of
 * strings, stops a JSON array of {"code","name","index"} in route order
 * (the text search_train_source returns). */
struct search_train_row {
    const char *number;
    const char *name;
    const char *run_days_json;
    const char *classes_json;
    const char *stops_json;
};

/* {"id" (the number),"type":"train","number","name","stops":[{"code","name",
 * "index"}],"station_codes":[...],"run_days":[...],"classes":[...]}.
 * Returns a new reference, or NULL when number or name is missing, a JSON
 * member does not parse or has the wrong shape, or out of memory. */
json_object *search_doc_train(const struct search_train_row *row);

/* The document's "id" member, or NULL when it has none. Borrowed from doc. */
const char *search_doc_id(json_object *doc);

#endif
