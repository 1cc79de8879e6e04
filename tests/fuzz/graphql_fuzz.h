/*
 * What the GraphQL fuzz targets (tests/fuzz/graphql_*_fuzz.c) share: the
 * text they compare between two runs of the same input, that is the rows a
 * sink gave to the row callback or collected, then its meta, as JSON.
 * Header-only: each target is one program.
 */
#ifndef GJ_TESTS_FUZZ_GRAPHQL_FUZZ_H
#define GJ_TESTS_FUZZ_GRAPHQL_FUZZ_H

#include "backend/graphql/gql.h"

#include <graphjob.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct gqlf_text {
    unsigned rows;               /* rows given to gqlf_on_row */
    unsigned stop_after;         /* gqlf_on_row stops after this many (0: never) */
    gj__gql_buf text;            /* rows then meta, as JSON */
} gqlf_text;

/* v as JSON and a line break ("(none)" for NULL, "(not JSON)" when it has
 * no JSON form); the JSON text must be as long as it says. */
static inline void gqlf_put_json(gj__gql_buf *b, const gj_value *v)
{
    char *text = NULL;
    size_t len = 0;
    if (v == NULL) {
        gj__gql_buf_puts(b, "(none)");
    } else if (gj_value_to_json(v, 0, &text, &len) == 0) {
        if (text == NULL || strlen(text) != len)
            abort();
        gj__gql_buf_put(b, text, len);
        gj_free(text);
    } else {
        gj__gql_buf_puts(b, "(not JSON)");
    }
    gj__gql_buf_puts(b, "\n");
}

/* A row callback; payload is a gqlf_text. */
static inline int gqlf_on_row(const gj_value *row, void *payload)
{
    gqlf_text *t = payload;
    if (row == NULL)
        abort();
    t->rows++;
    gqlf_put_json(&t->text, row);
    return t->stop_after != 0 && t->rows >= t->stop_after;
}

static inline bool gqlf_same(const gqlf_text *a, const gqlf_text *b)
{
    return a->rows == b->rows && a->text.len == b->text.len &&
           (a->text.len == 0 || memcmp(a->text.p, b->text.p, a->text.len) == 0);
}

#endif
