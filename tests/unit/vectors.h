/*
 * tests/unit/vectors.h - reader of tests/vectors/sm-vectors.txt for the unit
 * tests that check official SM2/SM3/SM4 vectors. The file is the one source
 * of truth: tests look values up by name instead of copying them.
 *
 * Include after <cmocka.h> and "hrss/crypto.h". Use vectors_load and
 * vectors_free as the group setup and teardown. Lines "name: value" become
 * vectors; a comment "# name as Base64 text: value" becomes "name.base64".
 */
#ifndef HRSS_TESTS_VECTORS_H
#define HRSS_TESTS_VECTORS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC_MAX 128

static char *vec_text;
static const char *vec_name[VEC_MAX];
static const char *vec_value[VEC_MAX];
static size_t vec_count;

/* Lines "name: value"; also "# name as Base64 text: value" as "name.base64". */
static inline int vectors_load(void **state)
{
    (void)state;
    const char *dir = getenv("HRSS_SOURCE_DIR");
    char path[4096];
    FILE *f;
    long size;
    char *line, *next;

    if (dir == NULL) {
        fprintf(stderr, "HRSS_SOURCE_DIR is not set\n");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/tests/vectors/sm-vectors.txt", dir);
    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return -1;
    }
    vec_text = malloc((size_t)size + 1);
    if (vec_text == NULL || fread(vec_text, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        return -1;
    }
    fclose(f);
    vec_text[size] = '\0';
    for (line = vec_text; line != NULL && *line != '\0'; line = next) {
        char *colon, *b64;
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '#') {
            b64 = strstr(line, " as Base64 text: ");
            if (b64 == NULL || strncmp(line, "# ", 2) != 0 || vec_count == VEC_MAX)
                continue;
            memcpy(b64, ".base64", 7); /* "name.base64" in place */
            b64[7] = '\0';
            vec_name[vec_count] = line + 2;
            vec_value[vec_count++] = b64 + 17;
            continue;
        }
        colon = strstr(line, ": ");
        if (colon == NULL || vec_count == VEC_MAX)
            continue;
        *colon = '\0';
        vec_name[vec_count] = line;
        vec_value[vec_count++] = colon + 2;
    }
    return 0;
}

static inline int vectors_free(void **state)
{
    (void)state;
    free(vec_text);
    return 0;
}

static inline const char *vec(const char *name)
{
    for (size_t i = 0; i < vec_count; i++)
        if (strcmp(vec_name[i], name) == 0)
            return vec_value[i];
    fail_msg("vector %s not in sm-vectors.txt", name);
    return NULL;
}

/* The named vector as bytes; free with hrss_free. */
static inline unsigned char *vec_bytes(const char *name, size_t *len)
{
    const char *hex = vec(name);
    unsigned char *out = NULL;
    assert_int_equal(hrss_hex_decode(hex, strlen(hex), &out, len, NULL), HRSS_OK);
    return out;
}

static inline void assert_hex_equal(const unsigned char *got, size_t len, const char *want_hex)
{
    char *hex = NULL;
    assert_int_equal(hrss_hex_encode(got, len, &hex, NULL), HRSS_OK);
    assert_string_equal(hex, want_hex);
    hrss_free(hex);
}

#endif
