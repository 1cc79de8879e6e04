/*
 * The GraphQL backend: what a request asks for (gql.h) — the operation's
 * type read from the document, the request options, the uploads — and the
 * request bodies: JSON, the GET query string, multipart upload fields and
 * the SHA-256 of persisted queries.
 */
#include "backend/graphql/gql.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most files one request uploads. */
#define MAX_FILES 64
/* Longest object path of an upload ("variables.files.3"). */
#define MAX_FIELD 512

/* ---- JSON text ------------------------------------------------------------------ */

void gj__gql_buf_put(gj__gql_buf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void gj__gql_buf_puts(gj__gql_buf *b, const char *s)
{
    gj__gql_buf_put(b, s, strlen(s));
}

void gj__gql_buf_json_string(gj__gql_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    gj__gql_buf_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        gj__gql_buf_put(b, s + run, i - run);
        run = i + 1;
        char esc[7] = { '\\', 0 };
        switch (ch) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            gj__gql_buf_put(b, esc, 6);
            continue;
        }
        gj__gql_buf_put(b, esc, 2);
    }
    gj__gql_buf_put(b, s + run, n - run);
    gj__gql_buf_put(b, "\"", 1);
}

void gj__gql_buf_json_value(gj__gql_buf *b, const gj_value *v)
{
    char *text = NULL;
    size_t n = 0;
    if (gj_value_to_json(v, 0, &text, &n) != 0) {
        b->nomem = true;
        return;
    }
    gj__gql_buf_put(b, text, n);
    gj_free(text);
}

void gj__gql_buf_free(gj__gql_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- the document ---------------------------------------------------------------- */

typedef struct lexer {
    const char *p, *end;
} lexer;

/* The next token: a name (*name, *n set, returns 'a'), a punctuator (its
 * character), or 0 at the end.  Strings and comments are skipped. */
static int next_token(lexer *lx, const char **name, size_t *n)
{
    for (;;) {
        while (lx->p < lx->end && (isspace((unsigned char)*lx->p) || *lx->p == ',' ||
                                   (unsigned char)*lx->p == 0xEF || (unsigned char)*lx->p == 0xBB ||
                                   (unsigned char)*lx->p == 0xBF))
            lx->p++;
        if (lx->p >= lx->end)
            return 0;
        char ch = *lx->p;
        if (ch == '#') {
            while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
                lx->p++;
            continue;
        }
        if (ch == '"') {
            if (lx->end - lx->p >= 3 && memcmp(lx->p, "\"\"\"", 3) == 0) {
                const char *close = lx->p + 3;
                for (; close + 3 <= lx->end; close++) {
                    if (*close == '\\' && close + 4 <= lx->end && memcmp(close + 1, "\"\"\"", 3) == 0)
                        close += 3;
                    else if (memcmp(close, "\"\"\"", 3) == 0)
                        break;
                }
                lx->p = close + 3 <= lx->end ? close + 3 : lx->end;
                continue;
            }
            lx->p++;
            while (lx->p < lx->end && *lx->p != '"' && *lx->p != '\n') {
                if (*lx->p == '\\' && lx->p + 1 < lx->end)
                    lx->p++;
                lx->p++;
            }
            if (lx->p < lx->end)
                lx->p++;
            continue;
        }
        if (isalpha((unsigned char)ch) || ch == '_') {
            const char *s = lx->p;
            while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
                lx->p++;
            *name = s;
            *n = (size_t)(lx->p - s);
            return 'a';
        }
        lx->p++;
        return (unsigned char)ch;
    }
}

static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

int gj__gql_doc_optype(const char *doc, const char *want, gj__gql_optype *out, gj_error *err)
{
    lexer lx = { doc, doc + strlen(doc) };
    int depth = 0, count = 0;
    bool expect_def = true, found = false;
    gj__gql_optype first = GJ__GQL_QUERY;
    const char *name;
    size_t n;
    int tok;
    while ((tok = next_token(&lx, &name, &n)) != 0) {
        if (tok == '{' || tok == '(' || tok == '[') {
            if (tok == '{' && depth == 0 && expect_def) {
                /* A shorthand query: "{ ... }". */
                count++;
                if (count == 1)
                    first = GJ__GQL_QUERY;
                expect_def = false;
            }
            depth++;
            continue;
        }
        if (tok == '}' || tok == ')' || tok == ']') {
            if (depth > 0)
                depth--;
            if (tok == '}' && depth == 0)
                expect_def = true;
            continue;
        }
        if (tok != 'a' || depth != 0 || !expect_def)
            continue;
        gj__gql_optype type;
        if (word_is(name, n, "query"))
            type = GJ__GQL_QUERY;
        else if (word_is(name, n, "mutation"))
            type = GJ__GQL_MUTATION;
        else if (word_is(name, n, "subscription"))
            type = GJ__GQL_SUBSCRIPTION;
        else {
            expect_def = false;   /* fragment, or a type system definition */
            continue;
        }
        expect_def = false;
        count++;
        if (count == 1)
            first = type;
        lexer save = lx;
        const char *opname;
        size_t on;
        if (next_token(&lx, &opname, &on) == 'a') {
            if (want && strlen(want) == on && memcmp(want, opname, on) == 0) {
                *out = type;
                found = true;
            }
        } else {
            lx = save;
        }
    }
    if (want) {
        if (found)
            return 0;
        if (count == 0) {
            *out = GJ__GQL_QUERY;   /* unreadable: the server says what is wrong */
            return 0;
        }
        return gj__error_set(err, GJ_EINVAL, "the document has no operation named %.64s", want);
    }
    if (count > 1)
        return gj__error_set(err, GJ_EINVAL, "the document has %d operations: say which one with "
                             "option operationName", count);
    *out = first;
    return 0;
}

/* ---- options ------------------------------------------------------------------------ */

static int opt_string(const gj_request *req, const char *key, const char **out, gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    size_t len = 0;
    if (!v)
        return 0;
    if (gj_value_string_get(v, out, &len) != 0 || strlen(*out) != len)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected a string, got %s", key,
                             gj_type_name(gj_value_type(v)));
    return 0;
}

static int opt_bool(const gj_request *req, const char *key, bool *out, gj_error *err)
{
    const gj_value *v = gj_request_option(req, key);
    if (v && gj_value_bool_get(v, out) != 0)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected a bool, got %s", key,
                             gj_type_name(gj_value_type(v)));
    return 0;
}

/* "name: value" lines from a map of strings (headers), or "a=1; b=2"
 * (cookies); GJ_EINVAL for a bad name or value. */
static int header_lines(const gj_value *map, const char *what, char **lines, size_t max,
                        size_t *n, gj_error *err)
{
    if (gj_value_type(map) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "option %s: expected a map of strings", what);
    if (gj_value_size(map) > max)
        return gj__error_set(err, GJ_EINVAL, "option %s: more than %zu entries", what, max);
    for (size_t i = 0; i < gj_value_size(map); i++) {
        const char *k = NULL, *v = NULL;
        size_t kl = 0, vl = 0;
        if (gj_value_string_get(gj_value_map_key_at(map, i), &k, &kl) != 0 ||
            gj_value_string_get(gj_value_map_value_at(map, i), &v, &vl) != 0)
            return gj__error_set(err, GJ_EINVAL, "option %s: expected a map of strings", what);
        if (!kl || kl != strlen(k) || vl != strlen(v) || strpbrk(k, ":\r\n \t") ||
            strpbrk(v, "\r\n"))
            return gj__error_set(err, GJ_EINVAL, "option %s: bad entry %.64s", what, k);
        size_t len = kl + vl + 3;
        if (!(lines[*n] = malloc(len)))
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
        snprintf(lines[*n], len, "%s: %s", k, v);
        (*n)++;
    }
    return 0;
}

int gj__gql_cookie_string(const gj_value *map, const char *what, char **out, gj_error *err)
{
    *out = NULL;
    if (gj_value_type(map) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "%s: expected a map of strings", what);
    gj__gql_buf b = { 0 };
    for (size_t i = 0; i < gj_value_size(map); i++) {
        const char *k = NULL, *v = NULL;
        size_t kl = 0, vl = 0;
        if (gj_value_string_get(gj_value_map_key_at(map, i), &k, &kl) != 0 ||
            gj_value_string_get(gj_value_map_value_at(map, i), &v, &vl) != 0 || !kl ||
            kl != strlen(k) || vl != strlen(v) || strpbrk(k, "=; \t\r\n") || strpbrk(v, ";\r\n")) {
            gj__gql_buf_free(&b);
            return gj__error_set(err, GJ_EINVAL, "%s: bad cookie (a map of name -> value "
                                 "strings, without ';')", what);
        }
        if (i)
            gj__gql_buf_puts(&b, "; ");
        gj__gql_buf_put(&b, k, kl);
        gj__gql_buf_put(&b, "=", 1);
        gj__gql_buf_put(&b, v, vl);
    }
    if (b.nomem) {
        gj__gql_buf_free(&b);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    *out = b.p;
    return 0;
}

static int add_file(gj__gql_op *op, const char *field, gj_error *err)
{
    if (op->n_files == MAX_FILES)
        return gj__error_set(err, GJ_EINVAL, "more than %d uploads in one request", MAX_FILES);
    if (!op->files && !(op->files = calloc(MAX_FILES, sizeof *op->files)))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    gj__gql_file *f = &op->files[op->n_files++];
    if (!(f->field = gj__strdup(field)))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    return 0;
}

/* Bytes anywhere in the variables are uploads (from memory). */
static int find_bytes(gj__gql_op *op, const gj_value *v, char *path, size_t plen, gj_error *err)
{
    gj_type t = gj_value_type(v);
    if (t == GJ_TBYTES) {
        int rc = add_file(op, path, err);
        if (rc)
            return rc;
        gj__gql_file *f = &op->files[op->n_files - 1];
        gj_value_bytes_get(v, &f->data, &f->len);
        const char *dot = strrchr(path, '.');
        f->filename = gj__strdup(dot ? dot + 1 : path);
        return f->filename ? 0 : gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    if (t != GJ_TMAP && t != GJ_TLIST)
        return 0;
    for (size_t i = 0; i < gj_value_size(v); i++) {
        char part[64];
        const char *key = part;
        const gj_value *child;
        if (t == GJ_TLIST) {
            snprintf(part, sizeof part, "%zu", i);
            child = gj_value_list_at(v, i);
        } else {
            if (gj_value_string_get(gj_value_map_key_at(v, i), &key, NULL) != 0)
                continue;
            child = gj_value_map_value_at(v, i);
        }
        size_t kl = strlen(key);
        if (plen + 1 + kl + 1 > MAX_FIELD)
            continue;
        path[plen] = '.';
        memcpy(path + plen + 1, key, kl + 1);
        int rc = find_bytes(op, child, path, plen + 1 + kl, err);
        path[plen] = '\0';
        if (rc)
            return rc;
    }
    return 0;
}

/* Option files: {"variables.file": "/path"} or {"variables.file": {path |
 * data, filename, content_type}}. */
static int option_files(gj__gql_op *op, const gj_value *files, gj_error *err)
{
    if (gj_value_type(files) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "option files: expected a map of object path -> "
                             "file path or {path | data, filename, content_type}");
    for (size_t i = 0; i < gj_value_size(files); i++) {
        const char *field = NULL, *s = NULL;
        const gj_value *v = gj_value_map_value_at(files, i);
        if (gj_value_string_get(gj_value_map_key_at(files, i), &field, NULL) != 0 ||
            strlen(field) >= MAX_FIELD || strncmp(field, "variables.", 10) != 0)
            return gj__error_set(err, GJ_EINVAL, "option files: keys are object paths such as "
                                 "\"variables.file\"");
        int rc = add_file(op, field, err);
        if (rc)
            return rc;
        gj__gql_file *f = &op->files[op->n_files - 1];
        if (gj_value_string_get(v, &s, NULL) == 0) {
            if (!(f->path = gj__strdup(s)))
                return gj__error_set(err, GJ_ENOMEM, "out of memory");
            continue;
        }
        if (gj_value_type(v) != GJ_TMAP)
            return gj__error_set(err, GJ_EINVAL, "option files: %.64s: expected a path or a map",
                                 field);
        const gj_value *path = gj_value_map_get(v, "path"), *data = gj_value_map_get(v, "data");
        const gj_value *name = gj_value_map_get(v, "filename"),
                       *type = gj_value_map_get(v, "content_type");
        if (path && gj_value_string_get(path, &s, NULL) == 0)
            f->path = gj__strdup(s);
        else if (data && gj_value_bytes_get(data, &f->data, &f->len) == 0)
            ;
        else if (data && gj_value_string_get(data, &s, &f->len) == 0)
            f->data = (const uint8_t *)s;
        else
            return gj__error_set(err, GJ_EINVAL, "option files: %.64s: give path (a string) or "
                                 "data (bytes or a string)", field);
        if (name && gj_value_string_get(name, &s, NULL) == 0)
            f->filename = gj__strdup(s);
        if (type && gj_value_string_get(type, &s, NULL) == 0)
            f->content_type = gj__strdup(s);
        if ((path && !f->path) || (name && !f->filename) || (type && !f->content_type))
            return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    return 0;
}

void gj__gql_op_clear(gj__gql_op *op)
{
    for (size_t i = 0; i < op->n_headers; i++)
        free(op->headers[i]);
    free(op->cookie);
    for (size_t i = 0; i < op->n_files; i++) {
        free(op->files[i].field);
        free(op->files[i].path);
        free(op->files[i].filename);
        free(op->files[i].content_type);
    }
    free(op->files);
    memset(op, 0, sizeof *op);
}

static const char *const known_options[] = {
    "operationName", "extensions", "headers", "cookies", "method", "persisted", "batch",
    "incremental", "files", "transport", NULL
};

int gj__gql_op_init(gj__gql_op *op, gj__gql_target *t, const gj_request *req, const char *verb,
                    gj_error *err)
{
    memset(op, 0, sizeof *op);
    op->req = req;
    const gj_value *opts = gj_request_options(req);
    for (size_t i = 0; i < gj_value_size(opts); i++) {
        const char *key = NULL;
        size_t k = 0;
        if (gj_value_string_get(gj_value_map_key_at(opts, i), &key, NULL) != 0)
            return gj__error_set(err, GJ_EINVAL, "op %s: an option name is not a string", verb);
        while (known_options[k] && strcmp(known_options[k], key) != 0)
            k++;
        if (!known_options[k])
            return gj__error_set(err, GJ_EINVAL, "op %s: unknown option %.64s", verb, key);
    }
    op->query = strcmp(verb, GJ_OP_INTROSPECT) == 0 ? gj__gql_introspection_query : gj_request_text(req);
    op->variables = gj_request_params(req);
    int rc = opt_string(req, "operationName", &op->operation_name, err);
    if (rc)
        return rc;
    op->extensions = gj_request_option(req, "extensions");
    if (op->extensions && gj_value_type(op->extensions) != GJ_TMAP)
        return gj__error_set(err, GJ_EINVAL, "option extensions: expected a map");
    op->apq = t->apq;
    if ((rc = opt_bool(req, "persisted", &op->apq, err)) != 0)
        return rc;
    op->batch = t->batch;
    if ((rc = opt_bool(req, "batch", &op->batch, err)) != 0)
        return rc;
    if (!op->query || !*op->query)
        return gj__error_set(err, GJ_EINVAL, "op %s: the request has no GraphQL document (text)",
                             verb);
    if ((rc = gj__gql_doc_optype(op->query, op->operation_name, &op->type, err)) != 0)
        return rc;
    if (strcmp(verb, GJ_OP_SUBSCRIBE) == 0 && op->type != GJ__GQL_SUBSCRIPTION)
        return gj__error_set(err, GJ_EINVAL, "op subscribe: the operation is not a subscription");
    const char *method = NULL;
    if ((rc = opt_string(req, "method", &method, err)) != 0)
        return rc;
    op->get = t->use_get && op->type == GJ__GQL_QUERY;
    if (method) {
        if (strcmp(method, "GET") == 0 || strcmp(method, "get") == 0) {
            if (op->type == GJ__GQL_MUTATION)
                return gj__error_set(err, GJ_EINVAL, "a mutation cannot be sent with GET "
                                     "(GraphQL over HTTP: it would be refused with 405)");
            op->get = true;
        } else if (strcmp(method, "POST") == 0 || strcmp(method, "post") == 0) {
            op->get = false;
        } else {
            return gj__error_set(err, GJ_EINVAL, "option method: \"GET\" or \"POST\" expected");
        }
    }
    op->incremental = strstr(op->query, "@defer") || strstr(op->query, "@stream");
    const char *inc = NULL;
    if ((rc = opt_string(req, "incremental", &inc, err)) != 0)
        return rc;
    op->parts = inc ? strcmp(inc, "parts") == 0 : false;
    if (inc && !op->parts && strcmp(inc, "merge") != 0)
        return gj__error_set(err, GJ_EINVAL, "option incremental: \"merge\" or \"parts\" expected");
    const gj_value *h = gj_request_option(req, "headers");
    if (h && (rc = header_lines(h, "headers", op->headers, GJ__HTTP_MAX_FIXED, &op->n_headers,
                                err)) != 0)
        return rc;
    const gj_value *ck = gj_request_option(req, "cookies");
    if (ck && (rc = gj__gql_cookie_string(ck, "option cookies", &op->cookie, err)) != 0)
        return rc;
    const gj_value *files = gj_request_option(req, "files");
    if (files && (rc = option_files(op, files, err)) != 0)
        return rc;
    char path[MAX_FIELD] = "variables";
    if ((rc = find_bytes(op, op->variables, path, strlen(path), err)) != 0)
        return rc;
    if (op->n_files) {
        op->get = false;
        op->batch = false;
        op->apq = false;
        if (op->type == GJ__GQL_SUBSCRIPTION)
            return gj__error_set(err, GJ_EINVAL, "a subscription cannot upload files");
    }
    if (op->incremental)
        op->batch = false;
    if (op->apq) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(op->query, strlen(op->query), md, &mdlen, EVP_sha256(), NULL) != 1 ||
            mdlen != 32)
            return gj__error_set(err, GJ_ENOMEM, "SHA-256 of the document failed");
        static const char hex[] = "0123456789abcdef";
        for (unsigned i = 0; i < 32; i++) {
            op->sha256[2 * i] = hex[md[i] >> 4];
            op->sha256[2 * i + 1] = hex[md[i] & 15];
        }
        op->sha256[64] = '\0';
    }
    return 0;
}

/* ---- bodies ------------------------------------------------------------------------- */

static bool is_file_field(const gj__gql_op *op, const char *path)
{
    for (size_t i = 0; i < op->n_files; i++)
        if (strcmp(op->files[i].field, path) == 0)
            return true;
    return false;
}

/* v as JSON, with null in the places of uploads. */
static void put_variables(gj__gql_buf *b, const gj__gql_op *op, const gj_value *v, char *path,
                          size_t plen)
{
    gj_type t = gj_value_type(v);
    if (op->n_files && is_file_field(op, path)) {
        gj__gql_buf_puts(b, "null");
        return;
    }
    if (!op->n_files || (t != GJ_TMAP && t != GJ_TLIST)) {
        gj__gql_buf_json_value(b, v);
        return;
    }
    gj__gql_buf_put(b, t == GJ_TMAP ? "{" : "[", 1);
    for (size_t i = 0; i < gj_value_size(v); i++) {
        char part[64];
        const char *key = part;
        size_t kl = 0;
        const gj_value *child;
        if (i)
            gj__gql_buf_put(b, ",", 1);
        if (t == GJ_TLIST) {
            snprintf(part, sizeof part, "%zu", i);
            child = gj_value_list_at(v, i);
        } else {
            if (gj_value_string_get(gj_value_map_key_at(v, i), &key, &kl) != 0) {
                b->nomem = true;   /* a map with other keys cannot be variables */
                return;
            }
            gj__gql_buf_json_string(b, key, kl);
            gj__gql_buf_put(b, ":", 1);
            child = gj_value_map_value_at(v, i);
        }
        kl = strlen(key);
        if (plen + 1 + kl + 1 > MAX_FIELD) {
            gj__gql_buf_json_value(b, child);
            continue;
        }
        path[plen] = '.';
        memcpy(path + plen + 1, key, kl + 1);
        put_variables(b, op, child, path, plen + 1 + kl);
        path[plen] = '\0';
    }
    gj__gql_buf_put(b, t == GJ_TMAP ? "}" : "]", 1);
}

void gj__gql_extensions(gj__gql_buf *b, const gj__gql_op *op, bool *wrote)
{
    size_t n = op->extensions ? gj_value_size(op->extensions) : 0;
    *wrote = false;
    if (!n && !op->apq)
        return;
    *wrote = true;
    if (!op->apq) {
        gj__gql_buf_json_value(b, op->extensions);
        return;
    }
    gj__gql_buf_put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        size_t kl = 0;
        if (gj_value_string_get(gj_value_map_key_at(op->extensions, i), &key, &kl) != 0 ||
            strcmp(key, "persistedQuery") == 0)
            continue;
        gj__gql_buf_json_string(b, key, kl);
        gj__gql_buf_put(b, ":", 1);
        gj__gql_buf_json_value(b, gj_value_map_value_at(op->extensions, i));
        gj__gql_buf_put(b, ",", 1);
    }
    gj__gql_buf_puts(b, "\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"");
    gj__gql_buf_puts(b, op->sha256);
    gj__gql_buf_puts(b, "\"}}");
}

void gj__gql_body(gj__gql_buf *b, const gj__gql_op *op, bool with_query, bool with_id,
                  const char *id)
{
    gj__gql_buf_put(b, "{", 1);
    bool comma = false;
    if (with_id) {
        gj__gql_buf_puts(b, "\"id\":");
        gj__gql_buf_json_string(b, id, strlen(id));
        comma = true;
    }
    if (with_query) {
        if (comma)
            gj__gql_buf_put(b, ",", 1);
        gj__gql_buf_puts(b, "\"query\":");
        gj__gql_buf_json_string(b, op->query, strlen(op->query));
        comma = true;
    }
    if (gj_value_size(op->variables)) {
        char path[MAX_FIELD] = "variables";
        if (comma)
            gj__gql_buf_put(b, ",", 1);
        gj__gql_buf_puts(b, "\"variables\":");
        put_variables(b, op, op->variables, path, strlen(path));
        comma = true;
    }
    if (op->operation_name) {
        if (comma)
            gj__gql_buf_put(b, ",", 1);
        gj__gql_buf_puts(b, "\"operationName\":");
        gj__gql_buf_json_string(b, op->operation_name, strlen(op->operation_name));
        comma = true;
    }
    size_t mark = b->len;
    if (comma)
        gj__gql_buf_put(b, ",", 1);
    gj__gql_buf_puts(b, "\"extensions\":");
    bool wrote = false;
    gj__gql_extensions(b, op, &wrote);
    if (!wrote && !b->nomem) {
        b->len = mark;
        b->p[mark] = '\0';
    }
    gj__gql_buf_put(b, "}", 1);
}

static int put_param(gj__gql_buf *b, gj_conn *c, const char *name, const char *value, size_t n,
                     bool *first, gj_error *err)
{
    char *e = gj__http_escape(c->http, value, n);
    if (!e)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    gj__gql_buf_put(b, *first ? "?" : "&", 1);
    gj__gql_buf_puts(b, name);
    gj__gql_buf_put(b, "=", 1);
    gj__gql_buf_puts(b, e);
    free(e);
    *first = false;
    return 0;
}

int gj__gql_get_query(gj__gql_buf *b, gj_conn *c, const gj__gql_op *op, bool with_query,
                      gj_error *err)
{
    bool first = true;
    int rc = 0;
    if (with_query)
        rc = put_param(b, c, "query", op->query, strlen(op->query), &first, err);
    if (!rc && gj_value_size(op->variables)) {
        gj__gql_buf v = { 0 };
        gj__gql_buf_json_value(&v, op->variables);
        rc = v.nomem ? gj__error_set(err, GJ_ENOMEM, "out of memory")
                     : put_param(b, c, "variables", v.p, v.len, &first, err);
        gj__gql_buf_free(&v);
    }
    if (!rc && op->operation_name)
        rc = put_param(b, c, "operationName", op->operation_name, strlen(op->operation_name),
                       &first, err);
    if (!rc) {
        gj__gql_buf x = { 0 };
        bool wrote = false;
        gj__gql_extensions(&x, op, &wrote);
        if (x.nomem)
            rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
        else if (wrote)
            rc = put_param(b, c, "extensions", x.p, x.len, &first, err);
        gj__gql_buf_free(&x);
    }
    if (!rc && b->nomem)
        rc = gj__error_set(err, GJ_ENOMEM, "out of memory");
    return rc;
}
