/*
 * YAML configuration text -> gj__cnode tree, with libyaml's event API.
 *
 * Plain scalars are typed by the YAML 1.2 core schema (null, bool, int,
 * float, else string); quoted and block scalars, and scalars tagged !!str
 * or "!", are strings.  One document per file; aliases are refused.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct yaml_build {
    const char *origin;
    const char *text;
    size_t len;
    gj_error *err;
    gj__cnode *root;
    gj__cnode *stack[GJ__CONFIG_MAX_DEPTH + 1];
    char *pending_key[GJ__CONFIG_MAX_DEPTH + 1];  /* per open map: its next key */
    unsigned key_line[GJ__CONFIG_MAX_DEPTH + 1], key_col[GJ__CONFIG_MAX_DEPTH + 1];
    size_t depth;
    size_t n_nodes;
} yaml_build;

static int build_error(yaml_build *b, int code, unsigned line, unsigned col, const char *msg)
{
    return gj__error_set(b->err, code, "%s:%u:%u: %s", b->origin, line, col, msg);
}

static bool all_of(const char *s, size_t len, const char *set)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (strchr(set, s[i]) == NULL || s[i] == '\0')
            return false;
    }
    return true;
}

static bool one_of(const char *s, const char *const *words)
{
    for (size_t i = 0; words[i] != NULL; i++) {
        if (strcmp(s, words[i]) == 0)
            return true;
    }
    return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *s)
{
    const char *p = s;
    bool digits = false;
    if (*p == '-' || *p == '+')
        p++;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            digits = true;
        }
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == '\0';
}

/* Type a plain scalar by the YAML 1.2 core schema. */
static void resolve_plain(gj__cnode *n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const infs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    const char *s = n->text;
    size_t len = n->text_len;

    if (strlen(s) != len)
        return;  /* a NUL inside: a string */
    if (one_of(s, nulls)) {
        n->kind = GJ__CNODE_NULL;
    } else if (one_of(s, trues) || one_of(s, falses)) {
        n->kind = GJ__CNODE_BOOL;
        n->boolean = one_of(s, trues);
    } else if (((s[0] == '-' || s[0] == '+') && all_of(s + 1, len - 1, "0123456789")) ||
               all_of(s, len, "0123456789")) {
        n->kind = GJ__CNODE_INT;
        errno = 0;
        n->integer = strtoll(s, NULL, 10);
        n->int_overflow = errno == ERANGE;
    } else if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x') &&
               all_of(s + 2, len - 2, s[1] == 'o' ? "01234567" : "0123456789abcdefABCDEF")) {
        unsigned long long v;
        n->kind = GJ__CNODE_INT;
        errno = 0;
        v = strtoull(s + 2, NULL, s[1] == 'o' ? 8 : 16);
        n->int_overflow = errno == ERANGE || v > (unsigned long long)INT64_MAX;
        n->integer = n->int_overflow ? 0 : (int64_t)v;
    } else if (is_core_float(s)) {
        n->kind = GJ__CNODE_FLOAT;
        n->number = strtod(s, NULL);
    } else if (one_of(s, infs) || one_of(s, ninfs)) {
        n->kind = GJ__CNODE_FLOAT;
        n->number = one_of(s, infs) ? INFINITY : -INFINITY;
    } else if (one_of(s, nans)) {
        n->kind = GJ__CNODE_FLOAT;
        n->number = NAN;
    }
}

/* Place a finished node: as the root, a list item, a map key or a map value. */
static int place(yaml_build *b, gj__cnode *node, bool is_scalar)
{
    if (b->depth == 0) {
        b->root = node;
        return 0;
    }
    gj__cnode *parent = b->stack[b->depth - 1];
    if (parent->kind == GJ__CNODE_MAP) {
        size_t d = b->depth - 1;
        if (b->pending_key[d] == NULL) {
            int rc;
            if (!is_scalar)
                rc = build_error(b, GJ_ECONFIG, node->line, node->col,
                                 "mapping keys must be scalars");
            else if (strlen(node->text) != node->text_len)
                rc = build_error(b, GJ_ECONFIG, node->line, node->col,
                                 "a mapping key contains a NUL character");
            else {
                b->pending_key[d] = node->text;
                b->key_line[d] = node->line;
                b->key_col[d] = node->col;
                node->text = NULL;
                rc = 0;
            }
            gj__cnode_free(node);
            return rc;
        }
        node->key = b->pending_key[d];
        node->key_line = b->key_line[d];
        node->key_col = b->key_col[d];
        b->pending_key[d] = NULL;
    }
    return gj__cnode_append(parent, node, b->origin, b->err);
}

static int count_node(yaml_build *b, const yaml_event_t *ev)
{
    if (++b->n_nodes <= GJ__CONFIG_MAX_NODES)
        return 0;
    return build_error(b, GJ_ECONFIG, (unsigned)ev->start_mark.line + 1,
                       (unsigned)ev->start_mark.column + 1,
                       "more than 65536 values in the document");
}

static int on_scalar(yaml_build *b, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    if (count_node(b, ev) != 0)
        return GJ_ECONFIG;
    gj__cnode *n = gj__cnode_new(GJ__CNODE_STRING, (unsigned)ev->start_mark.line + 1,
                                 (unsigned)ev->start_mark.column + 1,
                                 (const char *)ev->data.scalar.value, ev->data.scalar.length);
    if (n == NULL)
        return gj__error_set(b->err, GJ_ENOMEM, "out of memory");
    bool as_string = tag != NULL && (strcmp(tag, YAML_STR_TAG) == 0 || strcmp(tag, "!") == 0);
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !as_string)
        resolve_plain(n);
    return place(b, n, true);
}

static int on_start(yaml_build *b, const yaml_event_t *ev, gj__cnode_kind kind)
{
    unsigned line = (unsigned)ev->start_mark.line + 1, col = (unsigned)ev->start_mark.column + 1;
    if (b->depth >= GJ__CONFIG_MAX_DEPTH)
        return build_error(b, GJ_ECONFIG, line, col, "nesting too deep");
    if (count_node(b, ev) != 0)
        return GJ_ECONFIG;
    gj__cnode *n = gj__cnode_new(kind, line, col, NULL, 0);
    if (n == NULL)
        return gj__error_set(b->err, GJ_ENOMEM, "out of memory");
    int rc = place(b, n, false);
    if (rc != 0)
        return rc;
    b->stack[b->depth] = n;
    b->pending_key[b->depth] = NULL;
    b->depth++;
    return 0;
}

static int parser_error(yaml_build *b, const yaml_parser_t *p)
{
    char msg[384];
    unsigned line, col;
    const char *problem = p->problem != NULL ? p->problem : "unknown problem";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return gj__error_set(b->err, GJ_ENOMEM, "out of memory");
    case YAML_READER_ERROR:
        gj__config_position(b->text, b->len, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            snprintf(msg, sizeof msg, "YAML: %s (byte 0x%02X at offset %zu)", problem,
                     (unsigned)p->problem_value & 0xff, p->problem_offset);
        else
            snprintf(msg, sizeof msg, "YAML: %s (at offset %zu)", problem, p->problem_offset);
        return build_error(b, GJ_ECONFIG, line, col, msg);
    default:
        line = (unsigned)p->problem_mark.line + 1;
        col = (unsigned)p->problem_mark.column + 1;
        if (p->context != NULL)
            snprintf(msg, sizeof msg, "YAML syntax error: %s (%s at line %u, column %u)", problem,
                     p->context, (unsigned)p->context_mark.line + 1,
                     (unsigned)p->context_mark.column + 1);
        else
            snprintf(msg, sizeof msg, "YAML syntax error: %s", problem);
        return build_error(b, GJ_ECONFIG, line, col, msg);
    }
}

int gj__config_yaml_tree(const char *text, size_t len, const char *origin, gj__cnode **root,
                         gj_error *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    yaml_build b;
    unsigned documents = 0;
    int rc = 0;
    bool done = false;

    memset(&b, 0, sizeof b);
    b.origin = origin;
    b.text = text;
    b.len = len;
    b.err = err;
    *root = NULL;
    if (!yaml_parser_initialize(&parser))
        return gj__error_set(err, GJ_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    while (rc == 0 && !done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = parser_error(&b, &parser);
            break;
        }
        unsigned line = (unsigned)ev.start_mark.line + 1, col = (unsigned)ev.start_mark.column + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                rc = build_error(&b, GJ_ECONFIG, line, col,
                                 "more than one YAML document (one per file)");
            break;
        case YAML_ALIAS_EVENT:
            rc = build_error(&b, GJ_ECONFIG, line, col, "YAML aliases (*name) are not supported");
            break;
        case YAML_SCALAR_EVENT: rc = on_scalar(&b, &ev); break;
        case YAML_SEQUENCE_START_EVENT: rc = on_start(&b, &ev, GJ__CNODE_LIST); break;
        case YAML_MAPPING_START_EVENT: rc = on_start(&b, &ev, GJ__CNODE_MAP); break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b.depth > 0)
                b.depth--;
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    for (size_t d = 0; d <= GJ__CONFIG_MAX_DEPTH; d++)
        free(b.pending_key[d]);
    if (rc != 0) {
        gj__cnode_free(b.root);
        return rc;
    }
    *root = b.root;
    return 0;
}
