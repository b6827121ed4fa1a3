/* route.h: every URL the application answers, in one table (route.c). */
#ifndef BOXOFFICE_ROUTE_H
#define BOXOFFICE_ROUTE_H

#include "http.h"

typedef void (*route_handler)(struct request *req, struct response *res);

enum route_flags {
    ROUTE_PUBLIC = 0,
    ROUTE_USER = 1 << 0,           /* a signed-in user, resolved before the handler: 401 */
    ROUTE_ADMIN = 1 << 1,          /* an admin user: 401, then 403 */
    ROUTE_SESSION_IN_SQL = 1 << 2, /* the handler's own SQL resolves req->token_hash */
    ROUTE_LARGE_BODY = 1 << 3,     /* accepts bodies up to 16x max_body_bytes */
};

struct route {
    enum http_method method;
    const char *pattern; /* "/api/events/:id/holds": `:id` an id, `:s` a text segment */
    route_handler handler;
    unsigned flags;
    const char *name; /* label for metrics and logs */
};

#define ROUTE_NOT_FOUND (-1)
#define ROUTE_METHOD_NOT_ALLOWED (-2)

/* The table and its length. */
extern const struct route route_table[];
extern const int route_count;

/* Finds the route for method and path, filling req->ids and req->args with
 * the captured segments. Returns its index, ROUTE_NOT_FOUND or
 * ROUTE_METHOD_NOT_ALLOWED (the path exists with another method). */
int route_match(enum http_method method, const char *path, struct request *req);

/* Parses an HTTP method name. */
enum http_method route_method(const char *text);

#endif
