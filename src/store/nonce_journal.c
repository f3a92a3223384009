/*
 * store/nonce_journal.c - the journal that carries the in-process replay
 * store across a restart (nonce_journal.h).
 *
 * A journal file holds text lines, each written by one write(2) on a
 * descriptor opened with O_APPEND, so that lines from several workers never
 * mix:
 *     open <boot id> <time>        a start of the node
 *     n <time> <caller> <nonce>    a nonce recorded at time
 *     closed <time>                a clean stop, after which all was synced
 * Reading the files in order tells the boot of the last start and whether
 * that run stopped cleanly. A line cut by a full disk is skipped, and the
 * next line starts on a fresh one.
 */
#include "nonce_journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_PATH_MAX 4096
#define BOOT_ID_MAX 64
#define TOKEN_MAX 64 /* caller and nonce: [0-9A-Za-z], at most this long */

struct nonce_journal {
    pthread_mutex_t lock;
    char dir[JOURNAL_PATH_MAX];
    int64_t ttl;
    int64_t period; /* of the file fd appends to */
    int fd;
    int retired;    /* the previous period's descriptor, synced and closed by the next sync */
    int cut;        /* the last write was short: start the next line afresh */
    atomic_int dirty;
};

/* The kernel's id of this boot; "unknown" where it cannot be read. */
static void boot_id(char out[BOOT_ID_MAX])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    size_t n = 0;
    if (f != NULL) {
        n = fread(out, 1, BOOT_ID_MAX - 1, f);
        fclose(f);
    }
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        n--;
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (out[i] <= ' ' || out[i] > '~')
            out[i] = '_';
    if (n == 0)
        snprintf(out, BOOT_ID_MAX, "unknown");
}

static int file_path(const nonce_journal *j, int64_t period, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%" PRId64 ".log", j->dir, period);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The period of a file name "<period>.log", or -1. */
static int64_t name_period(const char *name)
{
    char *end;
    if (name[0] < '0' || name[0] > '9')
        return -1;
    errno = 0;
    long long p = strtoll(name, &end, 10);
    if (errno != 0 || strcmp(end, ".log") != 0)
        return -1;
    return (int64_t)p;
}

static int is_token(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= 'a' && s[n] <= 'z')))
            return 0;
    return n > 0 && n <= TOKEN_MAX;
}

/* Splits line into at most max space-separated fields; returns their count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *s = line;
    while (*s != '\0' && n < max) {
        while (*s == ' ')
            s++;
        if (*s == '\0')
            break;
        f[n++] = s;
        while (*s != '\0' && *s != ' ')
            s++;
        if (*s == ' ')
            *s++ = '\0';
    }
    return *s == '\0' ? n : max + 1;
}

static int parse_time(const char *s, int64_t *t)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return -1;
    *t = (int64_t)v;
    return 0;
}

typedef struct read_state {
    char last_boot[BOOT_ID_MAX]; /* of the last "open" line read */
    int clean;                   /* a "closed" line came after it */
    int lost;                    /* a nonce could not go back into the store */
} read_state;

/* Reads one file's lines into r and st. */
static void read_file_into(FILE *f, int64_t ttl, int64_t now, hrss_replay *r, read_state *st,
                           size_t *nonces)
{
    char line[512];
    char *fld[5];
    hrss_error e;

    while (fgets(line, sizeof(line), f) != NULL) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            /* over long (never written by us) or cut at the end: skip its rest */
            int c;
            while (len == sizeof(line) - 1 && (c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        line[len - 1] = '\0';
        int n = split(line, fld, 4);
        int64_t t;
        if (n == 3 && strcmp(fld[0], "open") == 0) {
            snprintf(st->last_boot, sizeof(st->last_boot), "%s", fld[1]);
            st->clean = 0;
        } else if (n == 2 && strcmp(fld[0], "closed") == 0) {
            st->clean = 1;
        } else if (n == 4 && strcmp(fld[0], "n") == 0 && parse_time(fld[1], &t) == 0 &&
                   is_token(fld[2]) && is_token(fld[3])) {
            if (t + ttl <= now)
                continue; /* expired */
            int rc = hrss_replay_check(r, fld[2], strlen(fld[2]), fld[3], strlen(fld[3]), t, &e);
            if (rc == HRSS_OK)
                (*nonces)++;
            else if (rc != HRSS_EREPLAY)
                st->lost = 1;
        }
    }
}

static int cmp_period(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes all of s (one write for a line); -1 on failure or a short write. */
static int write_line(nonce_journal *j, const char *s, size_t len)
{
    char buf[512];
    if (j->cut && len + 1 <= sizeof(buf)) {
        buf[0] = '\n';
        memcpy(buf + 1, s, len);
        s = buf;
        len++;
    }
    ssize_t w;
    do
        w = write(j->fd, s, len);
    while (w < 0 && errno == EINTR);
    j->cut = w != (ssize_t)len;
    return j->cut ? -1 : 0;
}

static int open_period(nonce_journal *j, int64_t period)
{
    char path[JOURNAL_PATH_MAX + 32];
    if (file_path(j, period, path, sizeof(path)) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (j->fd >= 0) {
        if (j->retired >= 0)
            close(j->retired);
        j->retired = j->fd;
    }
    j->fd = fd;
    j->period = period;
    j->cut = 0;
    /* whatever the previous file ended with, this one starts on a line */
    return 0;
}

/* Removes the files of periods whose every nonce has expired at now. */
static void remove_expired(const nonce_journal *j, int64_t now)
{
    DIR *d = opendir(j->dir);
    struct dirent *ent;
    char path[JOURNAL_PATH_MAX + 32];
    if (d == NULL)
        return;
    while ((ent = readdir(d)) != NULL) {
        int64_t p = name_period(ent->d_name);
        /* a period's nonces were recorded before (p + 1) * ttl */
        if (p >= 0 && (p + 2) * j->ttl <= now && file_path(j, p, path, sizeof(path)) == 0)
            unlink(path);
    }
    closedir(d);
}

int nonce_journal_open(const char *dir, int64_t ttl, int64_t now, hrss_replay *r,
                       nonce_journal **out, nonce_journal_loaded *loaded,
                       char err[NONCE_JOURNAL_ERR_MAX])
{
    nonce_journal *j = NULL;
    int64_t *periods = NULL;
    size_t n_periods = 0, cap = 0;
    read_state st;
    char boot[BOOT_ID_MAX], path[JOURNAL_PATH_MAX + 32];
    DIR *d = NULL;
    int rc = -1;

    *out = NULL;
    memset(loaded, 0, sizeof(*loaded));
    memset(&st, 0, sizeof(st));
    if (ttl <= 0 || strlen(dir) >= JOURNAL_PATH_MAX) {
        snprintf(err, NONCE_JOURNAL_ERR_MAX, "nonce journal: bad directory or ttl");
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, NONCE_JOURNAL_ERR_MAX, "nonce journal %.400s: %s", dir, strerror(errno));
        return -1;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    pthread_mutex_init(&j->lock, NULL);
    snprintf(j->dir, sizeof(j->dir), "%s", dir);
    j->ttl = ttl;
    j->fd = j->retired = -1;
    remove_expired(j, now);

    d = opendir(dir);
    if (d == NULL) {
        snprintf(err, NONCE_JOURNAL_ERR_MAX, "nonce journal %.400s: %s", dir, strerror(errno));
        goto done;
    }
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {
        int64_t p = name_period(ent->d_name);
        if (p < 0)
            continue;
        if (n_periods == cap) {
            cap = cap ? cap * 2 : 8;
            periods = realloc(periods, cap * sizeof(*periods));
            if (periods == NULL)
                abort();
        }
        periods[n_periods++] = p;
    }
    if (n_periods > 1)
        qsort(periods, n_periods, sizeof(*periods), cmp_period);
    for (size_t i = 0; i < n_periods; i++) {
        if (file_path(j, periods[i], path, sizeof(path)) != 0)
            continue;
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            snprintf(err, NONCE_JOURNAL_ERR_MAX, "nonce journal %.400s: %s", path,
                     strerror(errno));
            goto done;
        }
        read_file_into(f, ttl, now, r, &st, &loaded->nonces);
        fclose(f);
        loaded->files++;
    }

    boot_id(boot);
    if (st.lost) {
        loaded->fence = now;
        loaded->why = "the replay store could not take back every journalled nonce";
    } else if (loaded->files > 0 && st.last_boot[0] != '\0' && !st.clean &&
               strcmp(st.last_boot, boot) != 0) {
        loaded->fence = now;
        loaded->why = "the machine restarted while the node ran: its last second of nonces may "
                      "be lost";
    }

    char line[BOOT_ID_MAX + 48];
    int len = snprintf(line, sizeof(line), "open %s %" PRId64 "\n", boot, now);
    if (open_period(j, now / ttl) != 0 || write_line(j, line, (size_t)len) != 0 ||
        fsync(j->fd) != 0) {
        snprintf(err, NONCE_JOURNAL_ERR_MAX, "nonce journal %.400s: %s", dir, strerror(errno));
        goto done;
    }
    int dfd = dirfd(d); /* the new file's name is durable too */
    if (dfd >= 0)
        fsync(dfd);
    rc = 0;
done:
    if (d != NULL)
        closedir(d);
    free(periods);
    if (rc != 0) {
        if (j->fd >= 0)
            close(j->fd);
        pthread_mutex_destroy(&j->lock);
        free(j);
        j = NULL;
    }
    *out = j;
    return rc;
}

int nonce_journal_append(nonce_journal *j, const char *caller, const char *nonce, int64_t now,
                         hrss_error *err)
{
    char line[2 * TOKEN_MAX + 48];
    int rc = HRSS_OK;

    if (!is_token(caller) || !is_token(nonce)) {
        /* never written, so never read back: refuse rather than forget */
        if (err != NULL) {
            err->code = HRSS_EUNAVAIL;
            snprintf(err->msg, sizeof(err->msg), "nonce journal: caller or nonce not journalable");
        }
        return HRSS_EUNAVAIL;
    }
    int len = snprintf(line, sizeof(line), "n %" PRId64 " %s %s\n", now, caller, nonce);
    pthread_mutex_lock(&j->lock);
    int64_t period = now / j->ttl;
    if (period > j->period) {
        if (open_period(j, period) == 0)
            remove_expired(j, now);
    }
    if (write_line(j, line, (size_t)len) != 0)
        rc = HRSS_EUNAVAIL;
    pthread_mutex_unlock(&j->lock);
    if (rc == HRSS_OK) {
        atomic_store(&j->dirty, 1);
    } else if (err != NULL) {
        err->code = rc;
        snprintf(err->msg, sizeof(err->msg), "nonce journal: %s", strerror(errno));
    }
    return rc;
}

void nonce_journal_sync(nonce_journal *j)
{
    if (j == NULL || !atomic_exchange(&j->dirty, 0))
        return;
    pthread_mutex_lock(&j->lock);
    int fd = j->fd, old = j->retired;
    j->retired = -1;
    pthread_mutex_unlock(&j->lock);
    if (old >= 0) {
        fsync(old);
        close(old);
    }
    /* fd stays open: only this thread closes a retired descriptor */
    fsync(fd);
}

void nonce_journal_close(nonce_journal *j)
{
    char line[48];
    if (j == NULL)
        return;
    int len = snprintf(line, sizeof(line), "closed %" PRId64 "\n", (int64_t)time(NULL));
    pthread_mutex_lock(&j->lock);
    if (j->retired >= 0) {
        fsync(j->retired);
        close(j->retired);
    }
    if (j->fd >= 0) {
        /* "closed" only when everything before it is on the disk */
        if (fsync(j->fd) == 0 && write_line(j, line, (size_t)len) == 0)
            fsync(j->fd);
        close(j->fd);
    }
    pthread_mutex_unlock(&j->lock);
    pthread_mutex_destroy(&j->lock);
    free(j);
}
