/*
 * JSON configuration text -> gj__cnode tree, with json-c.
 *
 * json-c checks the whole text first (strict mode, depth limited) and gives
 * the byte offset of a syntax error.  json-c's objects keep neither
 * positions nor duplicate keys, so the tree is then built by a walk over the
 * checked text that records the line and column of every key and value and
 * holds the text to RFC 8259 where json-c's strict mode is lenient (single
 * quotes, NaN, Infinity, "1.", control characters in strings); json-c
 * decodes each string and number token.  UTF-8 is checked first, so that an
 * error points at the offending byte.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <json.h>
#include <stdio.h>
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
    size_t n_nodes;
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
    gj__error_set(w->err, code, "%s:%u:%u: %s", w->origin, line, col, msg);
    return code;
}

/* A syntax error at offset (the walk's own checks). */
static int syntax_error(json_walk *w, size_t offset, const char *what)
{
    char msg[128];
    w->pos = offset;
    snprintf(msg, sizeof msg, "JSON syntax error: %s (at byte offset %zu)", what, offset);
    walk_error(w, GJ_ECONFIG, msg);
    return GJ_ECONFIG;
}

static int no_memory(json_walk *w)
{
    gj__error_set(w->err, GJ_ENOMEM, "out of memory");
    return GJ_ENOMEM;
}

/* The end of the string token at w->pos into *end, or a syntax error. */
static int string_end(json_walk *w, size_t *end)
{
    size_t i = w->pos;
    if (i >= w->len || w->text[i] != '"')
        return syntax_error(w, i, "expected a string in double quotes");
    for (i++; i < w->len && w->text[i] != '"'; i++) {
        if ((unsigned char)w->text[i] < 0x20)
            return syntax_error(w, i, "control character in a string");
        if (w->text[i] == '\\')
            i++;
    }
    if (i >= w->len)
        return syntax_error(w, w->len, "unexpected end of data");
    *end = i + 1;
    return 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the number at w->pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static int number_end(json_walk *w, size_t *end)
{
    const char *t = w->text;
    size_t i = w->pos;
    if (t[i] == '-')
        i++;
    if (t[i] == '0')
        i++;
    else if (is_digit(t[i]))
        while (is_digit(t[i]))
            i++;
    else
        return syntax_error(w, i, "bad number");
    if (t[i] == '.') {
        if (!is_digit(t[++i]))
            return syntax_error(w, i, "bad number");
        while (is_digit(t[i]))
            i++;
    }
    if (t[i] == 'e' || t[i] == 'E') {
        i++;
        if (t[i] == '+' || t[i] == '-')
            i++;
        if (!is_digit(t[i]))
            return syntax_error(w, i, "bad number");
        while (is_digit(t[i]))
            i++;
    }
    *end = i;
    return 0;
}

/* The offset of the first byte that is not valid UTF-8, or len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return i;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += n + 1;
    }
    return len;
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
    size_t end;
    int rc;

    if (c == '"') {
        char *s;
        size_t len;
        if ((rc = string_end(w, &end)) != 0 || (rc = decode_string(w, end, &s, &len)) != 0)
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
    if (c == '-' || is_digit(c)) {
        if ((rc = number_end(w, &end)) != 0)
            return rc;
    } else {
        static const char *const literals[] = {"true", "false", "null"};
        end = w->pos;
        for (size_t i = 0; i < 3; i++) {
            size_t n_lit = strlen(literals[i]);
            if (strncmp(w->text + w->pos, literals[i], n_lit) == 0)
                end = w->pos + n_lit;
        }
        if (end == w->pos)
            return syntax_error(w, w->pos, "unexpected character");
    }
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

static int value(json_walk *w, gj__cnode *parent, char *key, unsigned key_line,
                 unsigned key_col, gj__cnode **out);

/* An object or array at w->pos; n is its node, already linked to its
 * parent (for key paths in messages). */
static int container(json_walk *w, gj__cnode *n)
{
    bool map = n->kind == GJ__CNODE_MAP;
    char close = map ? '}' : ']';
    w->pos++;
    for (bool first = true;; first = false) {
        gj__cnode *child = NULL;
        char *key = NULL;
        unsigned key_line = 0, key_col = 0;
        int rc;
        skip_space(w);
        if (w->pos >= w->len)
            return syntax_error(w, w->len, "unexpected end of data");
        if (w->text[w->pos] == close) {
            w->pos++;
            return 0;
        }
        if (!first) {
            if (w->text[w->pos] != ',')
                return syntax_error(w, w->pos, "unexpected character");
            w->pos++;
            skip_space(w);
            if (w->pos < w->len && w->text[w->pos] == close)
                return syntax_error(w, w->pos, "unexpected character");
        }
        if (map) {
            size_t key_end, key_len;
            position(w, &key_line, &key_col);
            if ((rc = string_end(w, &key_end)) != 0 ||
                (rc = decode_string(w, key_end, &key, &key_len)) != 0)
                return rc;
            if (strlen(key) != key_len) {
                free(key);
                return walk_error(w, GJ_ECONFIG, "a key contains a NUL character");
            }
            w->pos = key_end;
            skip_space(w);
            if (w->pos >= w->len || w->text[w->pos] != ':') {
                free(key);
                return syntax_error(w, w->pos, "expected ':'");
            }
            w->pos++;
        }
        if ((rc = value(w, n, key, key_line, key_col, &child)) != 0)
            return rc;
        if ((rc = gj__cnode_append(n, child, w->origin, w->err)) != 0)
            return rc;
    }
}

/* The value at w->pos as a new node.  key (taken over) names it in parent. */
static int value(json_walk *w, gj__cnode *parent, char *key, unsigned key_line,
                 unsigned key_col, gj__cnode **out)
{
    gj__cnode *n = NULL;
    int rc;
    skip_space(w);
    if (w->pos >= w->len) {
        free(key);
        return syntax_error(w, w->len, "unexpected end of data");
    }
    if (++w->n_nodes > GJ__CONFIG_MAX_NODES) {
        free(key);
        return walk_error(w, GJ_ECONFIG, "more than 65536 values in the document");
    }
    char c = w->text[w->pos];
    if (c == '{' || c == '[') {
        unsigned line, col;
        position(w, &line, &col);
        n = gj__cnode_new(c == '{' ? GJ__CNODE_MAP : GJ__CNODE_LIST, line, col, NULL, 0);
        if (n == NULL) {
            free(key);
            return no_memory(w);
        }
        n->key = key;
        n->key_line = key_line;
        n->key_col = key_col;
        n->parent = parent;
        if ((rc = container(w, n)) != 0) {
            gj__cnode_free(n);
            return rc;
        }
    } else {
        if ((rc = scalar(w, &n)) != 0 || n == NULL) {
            free(key);
            return rc != 0 ? rc : no_memory(w);
        }
        n->key = key;
        n->key_line = key_line;
        n->key_col = key_col;
    }
    *out = n;
    return 0;
}

int gj__config_json_tree(const char *text, size_t len, const char *origin, gj__cnode **root,
                         gj_error *err)
{
    json_walk w = {origin, NULL, len, 0, 1, 0, 0, 0, err};
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
    size_t bad = utf8_check((const unsigned char *)text, len);
    if (bad < len) {
        unsigned line, col;
        gj__config_position(text, len, bad, &line, &col);
        return gj__error_set(err, GJ_ECONFIG,
                             "%s:%u:%u: JSON: invalid UTF-8 byte 0x%02X (at byte offset %zu)",
                             origin, line, col, (unsigned)(unsigned char)text[bad], bad);
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
    rc = value(&w, NULL, NULL, 0, 0, root);
    if (rc == 0) {
        skip_space(&w);
        if (w.pos < w.len) {
            gj__cnode_free(*root);
            *root = NULL;
            rc = syntax_error(&w, w.pos, "unexpected character");
        }
    }
    free(copy);
    return rc;
}
