/*
 * daemon/route.h - the route table both daemons answer HTTP from: each
 * module registers its routes (method, exact path or a path predicate,
 * handler, and the handler's own context), as nginx modules declare their
 * directives, and one dispatch finds the handler or answers 404 or 405.
 * hrss-node registers its health, metrics, registry and transaction
 * routes; hrss-sms its health and metrics, the send interface (api.c) and
 * the uplink interfaces (uplink.c).
 *
 * Who may call a route is the handler's business (the transaction path
 * checks the caller's signature and address, the SMS interfaces the
 * account's password and address): the table only routes.
 *
 * Build the table on the main thread before the workers start; after that
 * it is read-only and route_dispatch is safe from every worker.
 */
#ifndef HRSS_DAEMON_ROUTE_H
#define HRSS_DAEMON_ROUTE_H

#include "net/hserver.h"

#define ROUTE_MAX 32
#define ROUTE_ANY_METHOD (-1)

/* Answers req and returns the HTTP status it answered with, or 0 when the
 * answer comes later (the handler then logs its own line). */
typedef int (*route_fn)(void *ctx, hserver_req *req, int worker);

typedef struct route {
    int method;                       /* enum http1_method, or ROUTE_ANY_METHOD */
    const char *path;                 /* exact path; NULL when match decides */
    int (*match)(const char *path);   /* 1 when the path is this route's */
    route_fn fn;
    void *ctx;
} route;

typedef struct route_table {
    route r[ROUTE_MAX];
    int n;
} route_table;

/* Adds a route for an exact path (a GET route also serves HEAD). Aborts
 * when the table is full: a build-time mistake, not an input. */
void route_add(route_table *t, int method, const char *path, route_fn fn, void *ctx);
/* Adds a route for every path match() accepts (tried after exact paths). */
void route_add_match(route_table *t, int method, int (*match)(const char *path), route_fn fn,
                     void *ctx);

/* Calls the route of req's method and path and returns what it returned;
 * else answers 405 (the path is known, not with this method) or 404, both
 * as {"error":CODE,"message":TEXT}, and returns that status. */
int route_dispatch(const route_table *t, hserver_req *req, int worker);

/* The one error shape of both daemons outside their wire protocols:
 * {"error":"CODE","message":"TEXT"} with status; returns status. code and
 * message are constant text without characters to escape. */
int route_reply_error(hserver_req *req, int status, const char *code, const char *message);

/* text/plain answer; returns status. */
int route_reply_text(hserver_req *req, int status, const char *text);

#endif
