/*
 * fuzz/replay.c - runs a libFuzzer target's entry point over every file of
 * a corpus directory, without libFuzzer, so that each test run replays the
 * committed corpora (and any regression input added to them).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (d == NULL) {
        perror(argv[1]);
        return 2;
    }
    struct dirent *ent;
    int n = 0;
    while ((ent = readdir(d)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], ent->d_name);
        FILE *f = fopen(path, "rb");
        if (f == NULL) {
            perror(path);
            closedir(d);
            return 1;
        }
        size_t len = 0;
        int toobig = 0;
        char *buf = read_stream(f, 4u * 1024 * 1024, &len, &toobig);
        fclose(f);
        if (buf == NULL) {
            fprintf(stderr, "%s: unreadable\n", path);
            closedir(d);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
        free(buf);
        n++;
    }
    closedir(d);
    printf("replayed %d inputs from %s\n", n, argv[1]);
    return n > 0 ? 0 : 1;
}
