/*
 * JSON configuration text -> gj__cnode tree, with json-c.
 *
 * json-c checks the whole text first (strict mode, UTF-8 validated, depth
 * limited) and gives the byte offset of a syntax error.  json-c's objects
 * keep neither positions nor duplicate keys, so the tree is then built by a
 * walk over the checked text that records the line and column of every key
 * and value; json-c decodes each string and number token.
 */
#include "core/config_internal.h"

#include <errno.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

typedef struct json_walk {
    const char *origin;
    const char *text;   /* NUL-terminated, already checked by json-c */
    size_t len;
    size_t pos;
    unsigned line;      /* of pos */
    size_t line_start;  /* offset where that line starts */
    size_t seen;        /* offset up to which line/line_start are computed */
    gj_error *err;
} json_walk;

static void skip_space(json_walk *w)
{
    while (w->pos < w->len && (w->text[w->pos] == ' ' || w->text[w->pos] == '\t' ||
                               w->text[w->pos] == '\n' || w->text[w->pos] == '\r'))
        w->pos++;
}

/* Line and column of w->pos (positions only move forward). */
static void position(json_walk *w, unsigned *line, unsigned *col)
{
    for (; w->seen < w->pos; w->seen++) {
        if (w->text[w->seen] == '\n') {
            w->line++;
            w->line_start = w->seen + 1;
        }
    }
    *line = w->line;
    *col = (unsigned)(w->pos - w->line_start + 1);
}

static int walk_error(json_walk *w, int code, const char *msg)
{
    unsigned line, col;
    position(w, &line, &col);
    return gj__error_set(w->err, code, "%s:%u:%u: %s", w->origin, line, col, msg);
}

static int no_memory(json_walk *w)
{
    return gj__error_set(w->err, GJ_ENOMEM, "out of memory");
}

/* The end of the string token starting at w->pos (a '"'). */
static size_t string_end(const json_walk *w)
{
    size_t i = w->pos + 1;
    while (i < w->len && w->text[i] != '"')
        i += w->text[i] == '\\' ? 2 : 1;
    return i < w->len ? i + 1 : w->len;
}

/* The end of a number or literal token. */
static size_t bare_end(const json_walk *w)
{
    size_t i = w->pos;
    while (i < w->len && strchr("+-0123456789.eEtruefalsn", w->text[i]) != NULL &&
           w->text[i] != '\0')
        i++;
    return i;
}

/* Decode the string token [w->pos, end) into a new buffer. */
static int decode_string(json_walk *w, size_t end, char **out, size_t *out_len)
{
    const char *start = w->text + w->pos + 1;
    size_t raw_len = end - w->pos - 2;
    if (memchr(start, '\\', raw_len) == NULL) {
        /* No escapes: the bytes are the string (json-c checked the UTF-8). */
        *out = strndup(start, raw_len);
        *out_len = raw_len;
        return *out != NULL ? 0 : no_memory(w);
    }
    char *token = strndup(w->text + w->pos, end - w->pos);
    if (token == NULL)
        return no_memory(w);
    json_object *jo = json_tokener_parse(token);
    free(token);
    if (jo == NULL || !json_object_is_type(jo, json_type_string)) {
        json_object_put(jo);
        return walk_error(w, GJ_ECONFIG, "JSON: cannot decode string");
    }
    size_t n = (size_t)json_object_get_string_len(jo);
    *out = malloc(n + 1);
    if (*out != NULL) {
        memcpy(*out, json_object_get_string(jo), n);
        (*out)[n] = '\0';
    }
    *out_len = n;
    json_object_put(jo);
    return *out != NULL ? 0 : no_memory(w);
}

static int scalar(json_walk *w, gj__cnode **out)
{
    unsigned line, col;
    position(w, &line, &col);
    char c = w->text[w->pos];
    gj__cnode *n;

    if (c == '"') {
        size_t end = string_end(w);
        char *s;
        size_t len;
        int rc = decode_string(w, end, &s, &len);
        if (rc != 0)
            return rc;
        n = gj__cnode_new(GJ__CNODE_STRING, line, col, NULL, 0);
        if (n == NULL) {
            free(s);
            return no_memory(w);
        }
        n->text = s;
        n->text_len = len;
        w->pos = end;
        *out = n;
        return 0;
    }
    size_t end = bare_end(w);
    const char *tok = w->text + w->pos;
    size_t tok_len = end - w->pos;
    n = gj__cnode_new(GJ__CNODE_NULL, line, col, tok, tok_len);
    if (n == NULL)
        return no_memory(w);
    if (strcmp(n->text, "true") == 0 || strcmp(n->text, "false") == 0) {
        n->kind = GJ__CNODE_BOOL;
        n->boolean = n->text[0] == 't';
    } else if (strcmp(n->text, "null") == 0) {
        n->kind = GJ__CNODE_NULL;
    } else if (strpbrk(n->text, ".eE") == NULL) {
        /* json-c saturates integers outside int64; tell them apart here. */
        n->kind = GJ__CNODE_INT;
        errno = 0;
        n->integer = strtoll(n->text, NULL, 10);
        n->int_overflow = errno == ERANGE;
    } else {
        json_object *jo = json_tokener_parse(n->text);
        if (jo == NULL) {
            gj__cnode_free(n);
            return walk_error(w, GJ_ECONFIG, "JSON: cannot decode number");
        }
        n->kind = GJ__CNODE_FLOAT;
        n->number = json_object_get_double(jo);
        json_object_put(jo);
    }
    w->pos = end;
    *out = n;
    return 0;
}

static int value(json_walk *w, gj__cnode **out);

static int container(json_walk *w, gj__cnode **out)
{
    unsigned line, col;
    bool map = w->text[w->pos] == '{';
    char close = map ? '}' : ']';
    position(w, &line, &col);
    gj__cnode *n = gj__cnode_new(map ? GJ__CNODE_MAP : GJ__CNODE_LIST, line, col, NULL, 0);
    if (n == NULL)
        return no_memory(w);
    w->pos++;
    for (bool first = true;; first = false) {
        gj__cnode *child = NULL;
        char *key = NULL;
        unsigned key_line = 0, key_col = 0;
        int rc;
        skip_space(w);
        if (w->pos < w->len && w->text[w->pos] == close) {
            w->pos++;
            break;
        }
        if (!first) {
            w->pos++;  /* ',' */
            skip_space(w);
        }
        if (w->pos >= w->len) {
            gj__cnode_free(n);
            return walk_error(w, GJ_ECONFIG, "JSON: unexpected end of data");
        }
        if (map) {
            size_t key_end = string_end(w), key_len;
            position(w, &key_line, &key_col);
            if ((rc = decode_string(w, key_end, &key, &key_len)) != 0) {
                gj__cnode_free(n);
                return rc;
            }
            if (strlen(key) != key_len) {
                free(key);
                gj__cnode_free(n);
                return walk_error(w, GJ_ECONFIG, "a key contains a NUL character");
            }
            w->pos = key_end;
            skip_space(w);
            w->pos++;  /* ':' */
            skip_space(w);
        }
        if ((rc = value(w, &child)) != 0) {
            free(key);
            gj__cnode_free(n);
            return rc;
        }
        child->key = key;
        child->key_line = key_line;
        child->key_col = key_col;
        if ((rc = gj__cnode_append(n, child, w->origin, w->err)) != 0) {
            gj__cnode_free(n);
            return rc;
        }
    }
    *out = n;
    return 0;
}

static int value(json_walk *w, gj__cnode **out)
{
    skip_space(w);
    if (w->pos >= w->len)
        return walk_error(w, GJ_ECONFIG, "JSON: unexpected end of data");
    char c = w->text[w->pos];
    if (c == '{' || c == '[')
        return container(w, out);
    return scalar(w, out);
}

int gj__config_json_tree(const char *text, size_t len, const char *origin, gj__cnode **root,
                         gj_error *err)
{
    json_walk w = {origin, NULL, len, 0, 1, 0, 0, err};
    const char *nul;
    size_t i = 0;
    int rc;

    *root = NULL;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len)
        return 0;  /* empty */
    if ((nul = memchr(text, '\0', len)) != NULL) {
        unsigned line, col;
        gj__config_position(text, len, (size_t)(nul - text), &line, &col);
        return gj__error_set(err, GJ_ECONFIG, "%s:%u:%u: JSON: NUL byte at offset %zu", origin,
                             line, col, (size_t)(nul - text));
    }
    /* A NUL-terminated copy: the NUL ends a number at the very end. */
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';

    struct json_tokener *tok = json_tokener_new_ex(GJ__CONFIG_MAX_DEPTH);
    if (tok == NULL) {
        free(copy);
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *jo = json_tokener_parse_ex(tok, copy, (int)len + 1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    json_object_put(jo);
    if (jerr != json_tokener_success) {
        unsigned line, col;
        if (end > len)
            end = len;
        gj__config_position(copy, len, end, &line, &col);
        rc = gj__error_set(err, GJ_ECONFIG, "%s:%u:%u: JSON syntax error: %s (at byte offset %zu)",
                           origin, line, col, json_tokener_error_desc(jerr), end);
        free(copy);
        return rc;
    }

    w.text = copy;
    rc = value(&w, root);
    free(copy);
    return rc;
}
