/*
 * tests/unit/lib/envelope_data.h - the standard's example envelopes in
 * tests/data/envelopes, read by the envelope tests (include after
 * <cmocka.h>).
 */
#ifndef HRSS_TESTS_ENVELOPE_DATA_H
#define HRSS_TESTS_ENVELOPE_DATA_H

#include <stdio.h>
#include <stdlib.h>

/* The file's bytes, NUL-terminated (free with free()); *len without the
 * NUL. Fails the test when the file cannot be read. */
static char *read_data(const char *name, size_t *len)
{
    const char *top = getenv("HRSS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/envelopes/%s", top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set HRSS_SOURCE_DIR)", path);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

#endif
