/*
 * Micro benchmark of the value model: build and free records shaped like a
 * Bolt RECORD (a list of 5 fields: small int, large int, string, float, and a
 * 2-entry map), render them as JSON, and build a 100 000-key map.  Each figure
 * is printed with a ratio against a baseline measured in the same run
 * (malloc/free of the same number of blocks; memcpy of the same bytes), so
 * results compare across machines.
 *
 *   bench/value_build [records]        (default 200000)
 */
#include <graphjob.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Values per record: list, 2 ints, string, float, map, 2 keys, 2 values. */
#define VALUES_PER_RECORD 10
/* Allocations per record by design: list (items inline), large int, string,
 * float, map (entries inline), 2 key strings, 1 string value (small ints
 * cost none). */
#define ALLOCS_PER_RECORD 8

static int build_record(gj_value **out, int i)
{
    char name[32];
    snprintf(name, sizeof name, "name-%d", i);
    gj_value *row, *props;
    int rc = gj_value_new_list(&row, 5);
    if (rc)
        return rc;
    rc = gj_value_list_append(row, gj_value_int(i & 255));
    if (!rc)
        rc = gj_value_list_append(row, gj_value_int(1000000 + i));
    if (!rc)
        rc = gj_value_list_append(row, gj_value_string(name));
    if (!rc)
        rc = gj_value_list_append(row, gj_value_float(i * 0.5));
    if (!rc)
        rc = gj_value_new_map(&props, 2);
    if (!rc) {
        rc = gj_value_map_put_str(props, "age", gj_value_int(i % 100));
        if (!rc)
            rc = gj_value_map_put_str(props, "city", gj_value_string("Paris"));
        rc = rc ? (gj_value_unref(props), rc) : gj_value_list_append(row, props);
    }
    if (rc) {
        gj_value_unref(row);
        return rc;
    }
    *out = row;
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    if (n <= 0 || n > 50000000) {
        fprintf(stderr, "usage: %s [records (1..50000000)]\n", argv[0]);
        return 2;
    }
    gj_value **rows = calloc((size_t)n, sizeof *rows);
    void **blocks = calloc((size_t)n * ALLOCS_PER_RECORD, sizeof *blocks);
    if (!rows || !blocks)
        return 1;

    /* Baseline: malloc and free the same number of small blocks. */
    double t0 = now();
    for (size_t i = 0; i < (size_t)n * ALLOCS_PER_RECORD; i++)
        blocks[i] = malloc(24 + (i % 4) * 8);
    for (size_t i = 0; i < (size_t)n * ALLOCS_PER_RECORD; i++)
        free(blocks[i]);
    double baseline = now() - t0;

    t0 = now();
    for (int i = 0; i < n; i++)
        if (build_record(&rows[i], i) != 0) {
            fprintf(stderr, "build failed at record %d\n", i);
            return 1;
        }
    for (int i = 0; i < n; i++)
        gj_value_unref(rows[i]);
    double build = now() - t0;
    printf("build+free: %.2f M values/s, %.2f M records/s; x%.2f the malloc baseline\n",
           (double)n * VALUES_PER_RECORD / build / 1e6, n / build / 1e6, build / baseline);

    /* JSON of one list of all records, against memcpy of the output. */
    gj_value *all;
    if (gj_value_new_list(&all, (size_t)n) != 0)
        return 1;
    for (int i = 0; i < n; i++)
        if (build_record(&rows[i], i) != 0 || gj_value_list_append(all, rows[i]) != 0)
            return 1;
    char *json = NULL;
    size_t len = 0;
    t0 = now();
    if (gj_value_to_json(all, 0, &json, &len) != 0)
        return 1;
    double render = now() - t0;
    char *copy = malloc(len + 1);
    if (!copy)
        return 1;
    t0 = now();
    memcpy(copy, json, len + 1);
    volatile char sink = copy[len / 2];   /* keeps the copy from being optimised away */
    (void)sink;
    double copying = now() - t0;
    printf("to_json: %.1f MB/s (%zu bytes); x%.1f the memcpy baseline\n", (double)len / render / 1e6,
           len, render / (copying > 1e-9 ? copying : 1e-9));
    free(copy);
    gj_free(json);
    gj_value_unref(all);

    /* A hostile map: 100 000 distinct keys, then every key again. */
    gj_value *map;
    if (gj_value_new_map(&map, 0) != 0)
        return 1;
    char key[32];
    t0 = now();
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 100000; i++) {
            snprintf(key, sizeof key, "key%d", i);
            if (gj_value_map_put_str(map, key, gj_value_int(i)) != 0)
                return 1;
        }
    double mapping = now() - t0;
    printf("map: 200000 puts (100000 keys) in %.3f s (%zu entries)\n", mapping, gj_value_size(map));
    gj_value_unref(map);
    free(rows);
    free(blocks);
    return 0;
}
