/*
 * store/nonce_journal.h - the in-process replay store made to survive a
 * restart of hrss-node (docs/design.md, decision 22).
 *
 * Every nonce the node records is also appended to a journal in
 * data_dir/nonces, one line per nonce, before the request goes on. A
 * process that stops, by SIGTERM or kill -9, leaves its lines in the page
 * cache, so the next start reads them back into the store and a captured
 * request cannot be played again. Only a crash of the machine can lose the
 * lines written after the last fsync (once a second): the journal notes
 * the boot it was written under and whether it was closed cleanly, and a
 * start after such a crash sets a fence: requests whose serviceReqTime is
 * earlier than the start are refused. A caller whose clock is d seconds
 * behind is then refused for d seconds, once, after a reboot.
 *
 * Files: nonces/<period>.log, a period being one ttl long; a file is
 * removed once every nonce in it has expired.
 *
 * Threads: nonce_journal_open, _sync and _close on the main thread;
 * nonce_journal_append on any worker.
 */
#ifndef HRSS_STORE_NONCE_JOURNAL_H
#define HRSS_STORE_NONCE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "hrss/replay.h"

#define NONCE_JOURNAL_ERR_MAX 512

typedef struct nonce_journal nonce_journal;

typedef struct nonce_journal_loaded {
    size_t nonces;   /* live nonces read back into the store */
    size_t files;    /* journal files read */
    int64_t fence;   /* 0, or: refuse serviceReqTime earlier than this (epoch s) */
    const char *why; /* why the fence is set (static text), or NULL */
} nonce_journal_loaded;

/* Opens the journal in dir (made 0700 if missing), reads every live nonce
 * back into r (recorded at its own time, so it expires as it would have),
 * removes expired files, and notes this start. ttl is r's. Returns 0 with
 * *out and *loaded, or -1 with err. */
int nonce_journal_open(const char *dir, int64_t ttl, int64_t now, hrss_replay *r,
                       nonce_journal **out, nonce_journal_loaded *loaded,
                       char err[NONCE_JOURNAL_ERR_MAX]);

/* Appends (caller, nonce) recorded at now. HRSS_OK, or HRSS_EUNAVAIL when
 * it could not be written (the caller refuses the request: fail closed). */
int nonce_journal_append(nonce_journal *j, const char *caller, const char *nonce, int64_t now,
                         hrss_error *err);

/* Flushes what was appended to the disk (fsync). Called once a second. */
void nonce_journal_sync(nonce_journal *j);

/* Syncs, notes a clean stop and frees j. NULL is a no-op. */
void nonce_journal_close(nonce_journal *j);

#endif
