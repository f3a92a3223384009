/*
 * lib/idgen.c - the generator of serviceReqId/serviceResId values
 * (docs/design.md decision 6): system code + CST date + 9-digit sequence, unique for
 * a system code across threads, processes and restarts.
 *
 * The state of a system code is one small file, <state_dir>/<code>.seq,
 * holding the date last used and the first sequence of that date nobody has
 * reserved yet. A generator reserves a block of sequences under flock(2),
 * writes the new high mark and fsyncs it before handing out any of them: a
 * crash loses at most the rest of a block, never repeats one. Blocks start
 * small (a one-shot CLI call wastes little of the day's 999,999,999) and
 * double up to IDGEN_BLOCK_MAX for long-lived processes.
 *
 * The record has a fixed width and is rewritten in place at offset 0: one
 * write of 20 bytes inside one sector, so a crash leaves the old or the new
 * record. An empty file is a fresh one (nothing was handed out before its
 * first record was durable); anything else that does not parse is reported
 * as corrupt and never silently reset, since a reset would repeat ids.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "envelope_private.h"
#include "idgen_private.h"

#define IDGEN_BLOCK_MIN 16
#define IDGEN_BLOCK_MAX 1024
#define IDGEN_SEQ_END 1000000000ULL /* sequences are 1 .. 999,999,999 */

struct hrss_idgen {
    pthread_mutex_t mu;
    char code[HRSS_SYSTEM_CODE_LEN + 1];
    char *path;    /* <state_dir>/<code>.seq */
    uint32_t date; /* date of the block in hand (yyyymmdd), 0 before the first */
    uint64_t next; /* next sequence to hand out */
    uint64_t end;  /* first sequence past the block */
    uint64_t block;
};

static int sys_error(hrss_error *err, const char *what, const char *path)
{
    char buf[128];
    const char *m = strerror_r(errno, buf, sizeof(buf));
    return hrss__error(err, HRSS_EIO, "%s %s: %s", what, path, m);
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int make_dirs(const char *dir, hrss_error *err)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    struct stat st;
    int rc = HRSS_OK;

    if (p == NULL)
        return hrss__error(err, HRSS_ENOMEM, "out of memory");
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST) {
            rc = sys_error(err, "cannot create", p);
            goto done;
        }
        p[i] = dir[i];
    }
    if (stat(dir, &st) != 0) {
        rc = sys_error(err, "cannot use state directory", dir);
        goto done;
    }
    if (!S_ISDIR(st.st_mode))
        rc = hrss__error(err, HRSS_EIO, "state directory %s is not a directory", dir);
done:
    free(p);
    return rc;
}

static int open_locked(const char *path, int op, int *fd_out, hrss_error *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return sys_error(err, "cannot open", path);
    while (flock(fd, op) != 0) {
        if (errno != EINTR) {
            int rc = sys_error(err, "cannot lock", path);
            close(fd);
            return rc;
        }
    }
    *fd_out = fd;
    return HRSS_OK;
}

static int parse_digits(const char *s, size_t n, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return 0;
}

/* Reads the record of a locked file; a fresh (empty) file reads as date 0,
 * sequence 1. */
static int read_state(int fd, const char *path, uint32_t *date, uint64_t *next, hrss_error *err)
{
    char rec[HRSS__IDGEN_RECORD_LEN + 1];
    uint64_t d;
    ssize_t n;

    do
        n = pread(fd, rec, sizeof(rec), 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_error(err, "cannot read", path);
    if (n == 0) {
        *date = 0;
        *next = 1;
        return HRSS_OK;
    }
    if (n != HRSS__IDGEN_RECORD_LEN || rec[8] != ' ' || rec[19] != '\n' ||
        parse_digits(rec, 8, &d) != 0 || hrss__date_check(rec, NULL) != HRSS_OK ||
        parse_digits(rec + 9, 10, next) != 0 || *next < 1 || *next > IDGEN_SEQ_END)
        return hrss__error(err, HRSS_EIO,
                           "id state file %s is corrupt (want \"YYYYMMDD NNNNNNNNNN\"): "
                           "repair or remove it only if no id of this system code can repeat",
                           path);
    *date = (uint32_t)d;
    return HRSS_OK;
}

static int write_state(int fd, const char *path, uint32_t date, uint64_t end, hrss_error *err)
{
    char rec[HRSS__IDGEN_RECORD_LEN + 1];
    ssize_t n;

    snprintf(rec, sizeof(rec), "%08u %010llu\n", (unsigned)date, (unsigned long long)end);
    do
        n = pwrite(fd, rec, HRSS__IDGEN_RECORD_LEN, 0);
    while (n < 0 && errno == EINTR);
    if (n != HRSS__IDGEN_RECORD_LEN) {
        if (n >= 0)
            errno = EIO;
        return sys_error(err, "cannot write", path);
    }
    if (fsync(fd) != 0)
        return sys_error(err, "cannot sync", path);
    return HRSS_OK;
}

/* Reserves the next block for today (or the later date already stored,
 * when the clock went back). Caller holds g->mu. */
static int reserve_locked(hrss_idgen *g, uint32_t today, hrss_error *err)
{
    uint32_t stored_date, date;
    uint64_t stored_next, start, end;
    int fd = -1;
    int rc = open_locked(g->path, LOCK_EX, &fd, err);

    if (rc != HRSS_OK)
        return rc;
    rc = read_state(fd, g->path, &stored_date, &stored_next, err);
    if (rc != HRSS_OK)
        goto done;
    date = today > stored_date ? today : stored_date;
    start = date == stored_date ? stored_next : 1;
    if (start >= IDGEN_SEQ_END) {
        rc = hrss__error(err, HRSS_ERANGE, "the 999999999 ids of %08u for %s are used up",
                         (unsigned)date, g->code);
        goto done;
    }
    end = start + g->block < IDGEN_SEQ_END ? start + g->block : IDGEN_SEQ_END;
    rc = write_state(fd, g->path, date, end, err);
    if (rc != HRSS_OK)
        goto done;
    g->date = date;
    g->next = start;
    g->end = end;
    if (g->block < IDGEN_BLOCK_MAX)
        g->block *= 2;
done:
    close(fd); /* releases the lock */
    return rc;
}

int hrss_idgen_new(const char *system_code, const char *state_dir, hrss_idgen **out,
                   hrss_error *err)
{
    hrss_idgen *g = NULL;
    uint32_t date;
    uint64_t next;
    size_t dirlen;
    int fd = -1, rc;

    *out = NULL;
    if (system_code == NULL || state_dir == NULL || state_dir[0] == '\0')
        return hrss__error(err, HRSS_EINVAL, "system code and state directory are required");
    rc = hrss_system_code_check(system_code, strlen(system_code), err);
    if (rc != HRSS_OK) {
        hrss__error_prefix(err, "system code");
        return rc;
    }
    rc = make_dirs(state_dir, err);
    if (rc != HRSS_OK)
        return rc;
    g = calloc(1, sizeof(*g));
    dirlen = strlen(state_dir);
    if (g == NULL || (g->path = malloc(dirlen + 1 + HRSS_SYSTEM_CODE_LEN + 5)) == NULL) {
        rc = hrss__error(err, HRSS_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(g->code, system_code, HRSS_SYSTEM_CODE_LEN + 1);
    snprintf(g->path, dirlen + 1 + HRSS_SYSTEM_CODE_LEN + 5, "%s/%s.seq", state_dir, system_code);
    g->block = IDGEN_BLOCK_MIN;
    /* Fail now, not at the first id, on a state file we cannot use. */
    rc = open_locked(g->path, LOCK_SH, &fd, err);
    if (rc != HRSS_OK)
        goto done;
    rc = read_state(fd, g->path, &date, &next, err);
    close(fd);
    if (rc != HRSS_OK)
        goto done;
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        rc = hrss__error(err, HRSS_ENOMEM, "cannot create a mutex");
        goto done;
    }
    *out = g;
    g = NULL;
done:
    if (g != NULL) {
        free(g->path);
        free(g);
    }
    return rc;
}

int hrss__idgen_next_at(hrss_idgen *g, int64_t epoch, char out[HRSS_ID_LEN + 1], hrss_error *err)
{
    uint32_t today = hrss__cst_date(epoch);
    uint64_t seq = 0;
    uint32_t date = 0;
    int rc = HRSS_OK;

    if (g == NULL || out == NULL)
        return hrss__error(err, HRSS_EINVAL, "no generator or no output buffer");
    pthread_mutex_lock(&g->mu);
    /* A new day needs a new block; a clock gone back keeps the block's date. */
    if (g->next >= g->end || today > g->date)
        rc = reserve_locked(g, today, err);
    if (rc == HRSS_OK) {
        seq = g->next++;
        date = g->date;
    }
    pthread_mutex_unlock(&g->mu);
    if (rc != HRSS_OK)
        return rc;
    memcpy(out, g->code, HRSS_SYSTEM_CODE_LEN);
    snprintf(out + HRSS_SYSTEM_CODE_LEN, HRSS_ID_LEN - HRSS_SYSTEM_CODE_LEN + 1, "%08u%09llu",
             (unsigned)date, (unsigned long long)seq);
    return HRSS_OK;
}

int hrss_idgen_next(hrss_idgen *g, char out[HRSS_ID_LEN + 1], hrss_error *err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return hrss__idgen_next_at(g, (int64_t)ts.tv_sec, out, err);
}

void hrss_idgen_free(hrss_idgen *g)
{
    if (g == NULL)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->path);
    free(g);
}

int hrss__default_state_dir(char *out, size_t n)
{
    const char *v = getenv("HRSS_STATE_DIR");
    int w;
    if (v != NULL && v[0] != '\0')
        w = snprintf(out, n, "%s", v);
    else if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] != '\0')
        w = snprintf(out, n, "%s/hrss", v);
    else if ((v = getenv("HOME")) != NULL && v[0] != '\0')
        w = snprintf(out, n, "%s/.local/state/hrss", v);
    else
        return -1;
    return w > 0 && (size_t)w < n ? 0 : -1;
}
