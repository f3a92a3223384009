/*
 * node/registry.h - the node's registry in SQLite (WAL) under the data
 * directory: systems, services and grants; whole-registry import and
 * export as JSON (the format is in docs/operations.md); loading an
 * immutable snapshot (snapshot.h); and noticing commits made by other
 * processes (PRAGMA data_version).
 *
 * A registry handle is one SQLite connection: use it from one thread at a
 * time. Several processes may open the same data directory (the daemon and
 * `hrss-node registry import`); SQLite's locking keeps them consistent.
 * Error messages go to err (REGISTRY_ERR_MAX bytes), one problem per line.
 */
#ifndef HRSS_NODE_REGISTRY_H
#define HRSS_NODE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define REGISTRY_ERR_MAX 4096
#define REGISTRY_FILE "registry.db"
#define REGISTRY_JSON_MAX (64 * 1024 * 1024)
#define REGISTRY_REDACTED "(redacted)"

typedef struct registry registry;

/* Creates data_dir (mode 0750) when missing, opens or creates
 * data_dir/registry.db in WAL mode and its schema. Returns 0 and *out
 * (close with registry_close), or -1 with err. */
int registry_open(const char *data_dir, registry **out, char err[REGISTRY_ERR_MAX]);
void registry_close(registry *r);

/*
 * Validates text as a whole registry and, when every check passes,
 * replaces the stored registry with it in one transaction and increments
 * the registry version. Returns 0, or -1 with err listing each problem
 * with its JSON path ("systems[2].allowedIps[0]: ...", at most 20).
 * Nothing is changed on failure.
 */
int registry_import(registry *r, const char *text, size_t len, char err[REGISTRY_ERR_MAX]);

/* The stored registry as JSON text (free with free()); secrets (HMAC
 * secrets, SM4 keys) only when with_secrets, else REGISTRY_REDACTED. */
int registry_export(registry *r, int with_secrets, char **out, char err[REGISTRY_ERR_MAX]);

/* Reads the whole registry in one read transaction into a new snapshot
 * (one reference, to the caller). */
int registry_load(registry *r, snapshot **out, char err[REGISTRY_ERR_MAX]);

/* PRAGMA data_version: changes when another connection commits. */
int registry_data_version(registry *r, int64_t *out, char err[REGISTRY_ERR_MAX]);

#endif
