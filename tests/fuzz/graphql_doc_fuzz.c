/*
 * libFuzzer target: the GraphQL document scanner (gql_doc.c,
 * gj__gql_doc_optype): which operation of a document is wanted and of
 * which type, past strings, block strings, comments, fragments,
 * selections, arguments and directives.
 *
 * Input: byte 0: bit 0 an operation name is given (the bytes up to the
 * first newline after byte 0; else none); the rest (up to a NUL) is the
 * document.
 *
 * Invariants (abort() on violation): the result is 0 or GJ_EINVAL (with a
 * message); a type is one of query, mutation, subscription; the same
 * document with white space before it and a comment after it (one that
 * holds braces and keywords) gives the same result and type.
 *
 * Build: configure --enable-fuzzing CC=clang CXX=clang++; make tests/fuzz/graphql_doc_fuzz
 * Run:   tests/fuzz/graphql_doc_fuzz -max_total_time=60 $(srcdir)/tests/fuzz/corpus/graphql_doc
 */
#include "backend/graphql/gql.h"

#include <graphjob.h>

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int scan(const char *doc, const char *name, gj__gql_optype *type)
{
    gj_error *err = gj_error_new();
    if (err == NULL)
        abort();
    *type = (gj__gql_optype)-1;
    int rc = gj__gql_doc_optype(doc, name, type, err);
    if (rc != 0 && rc != GJ_EINVAL)
        abort();
    if (rc != 0 && (gj_error_code(err) != rc || gj_error_message(err)[0] == '\0'))
        abort();
    if (rc == 0 && *type != GJ__GQL_QUERY && *type != GJ__GQL_MUTATION &&
        *type != GJ__GQL_SUBSCRIPTION)
        abort();
    gj_error_free(err);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > ((size_t)1 << 24))
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    char *name = NULL;
    if (data[0] & 1) {
        const char *nl = memchr(p, '\n', n);
        size_t nn = nl ? (size_t)(nl - p) : n;
        if ((name = malloc(nn + 1)) == NULL)
            return 0;
        memcpy(name, p, nn);
        name[nn] = '\0';
        p += nl ? nn + 1 : nn;
        n -= nl ? nn + 1 : nn;
    }
    static const char before[] = " \t\r\n,";
    static const char after[] = "\n# } { query q { x } mutation m subscription s \"\"\"";
    char *doc = malloc(n + 1);
    char *framed = malloc(sizeof before - 1 + n + sizeof after);
    if (doc == NULL || framed == NULL) {
        free(doc);
        free(framed);
        free(name);
        return 0;
    }
    memcpy(doc, p, n);
    doc[n] = '\0';
    size_t dl = strlen(doc);
    memcpy(framed, before, sizeof before - 1);
    memcpy(framed + sizeof before - 1, doc, dl);
    memcpy(framed + sizeof before - 1 + dl, after, sizeof after);

    gj__gql_optype t1, t2;
    int rc1 = scan(doc, name, &t1);
    int rc2 = scan(framed, name, &t2);
    if (rc1 != rc2 || (rc1 == 0 && t1 != t2))
        abort();

    free(doc);
    free(framed);
    free(name);
    return 0;
}
