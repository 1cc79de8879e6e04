/* script.c — the script repertoire: a strict parser into a plan.
 *
 *   script    := statement [';']
 *   statement := 'Thread.sleep(' arg ')'
 *              | 'throw new Exception(' STRING ')'
 *              | NAME '=' arg                       (a session variable)
 *              | NAME '.' source { '.' step }        (a traversal)
 *              | NAME                               (a variable's value)
 *   source    := 'V(' [args] ')' | 'E(' [args] ')' | 'inject(' [args] ')'
 *   step      := 'hasLabel(' args ')' | 'values(' [args] ')' | 'limit(' arg ')'
 *              | 'count()' | 'unfold()'
 *   arg       := literal | NAME (a binding)
 *   literal   := 'str' | "str" | number | true | false | null | '[' [literal {',' literal}] ']'
 *
 * Numbers follow Groovy: 1 is an Integer (a Long, then a BigInteger when it
 * does not fit), 1L a Long, 1I an Integer, 1G a BigInteger, 1.5 a
 * BigDecimal, 1.5d / 1e3d a Double, 1.5f a Float.  Whitespace may separate
 * tokens.  Anything else is outside the repertoire and fails like a Groovy
 * compilation error (597).  Bytecode (op "bytecode") maps onto the same
 * plans. */
#include "gs.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const char *s;
    size_t pos;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static int perr(parser *p, const char *what)
{
    if (!p->failed) {
        snprintf(p->err, p->errlen,
                 "startup failed:\nScript1.groovy: 1: %s @ line 1, column %zu.\n"
                 "   %s\n1 error\n(gremlin-refserver evaluates a fixed repertoire of scripts)",
                 what, p->pos + 1, p->s);
        p->failed = true;
    }
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
        p->pos++;
}

static bool take(parser *p, char c)
{
    skip_ws(p);
    if (p->s[p->pos] != c)
        return false;
    p->pos++;
    return true;
}

static int expect(parser *p, char c)
{
    if (take(p, c))
        return 0;
    char what[48];
    snprintf(what, sizeof what, "expecting '%c'", c);
    return perr(p, what);
}

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_' || c == '$';
}

/* An identifier at the cursor (copied into out), or 0 when there is none. */
static size_t ident(parser *p, char *out, size_t cap)
{
    skip_ws(p);
    size_t start = p->pos, n = 0;
    if (!is_ident_start(p->s[start]))
        return 0;
    while (isalnum((unsigned char)p->s[start + n]) || p->s[start + n] == '_' || p->s[start + n] == '$')
        n++;
    if (n >= cap)
        return 0;
    memcpy(out, p->s + start, n);
    out[n] = '\0';
    p->pos += n;
    return n;
}

static bool keyword(parser *p, const char *kw)
{
    skip_ws(p);
    size_t n = strlen(kw);
    if (strncmp(p->s + p->pos, kw, n) != 0)
        return false;
    char next = p->s[p->pos + n];
    if (isalnum((unsigned char)next) || next == '_' || next == '$')
        return false;
    p->pos += n;
    return true;
}

static bool reserved(const char *name)
{
    static const char *const words[] = { "true", "false", "null", "new", "throw", "def", "return", "if",
                                         "else", "for", "while", "class", NULL };
    for (int i = 0; words[i]; i++)
        if (!strcmp(name, words[i]))
            return true;
    return false;
}

static int put_utf8(char *out, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
        return -1;
    } else {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
    return 0;
}

static int string_literal(parser *p, gj_value **out)
{
    char q = p->s[p->pos];
    size_t cap = strlen(p->s + p->pos) + 1, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return perr(p, "out of memory");
    p->pos++;
    for (;;) {
        char c = p->s[p->pos];
        if (c == '\0' || c == '\n') {
            free(buf);
            return perr(p, "unterminated string literal");
        }
        p->pos++;
        if (c == q)
            break;
        if (c == '$' && q == '"') {
            free(buf);
            return perr(p, "GString interpolation is outside the repertoire");
        }
        if (c != '\\') {
            buf[n++] = c;
            continue;
        }
        c = p->s[p->pos++];
        switch (c) {
        case 'n': buf[n++] = '\n'; break;
        case 't': buf[n++] = '\t'; break;
        case 'r': buf[n++] = '\r'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case '\\': case '\'': case '"': case '$': buf[n++] = c; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                char h = p->s[p->pos];
                if (!isxdigit((unsigned char)h)) {
                    free(buf);
                    return perr(p, "bad \\u escape");
                }
                cp = cp * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
                p->pos++;
            }
            if (put_utf8(buf, &n, cp) != 0) {
                free(buf);
                return perr(p, "bad \\u escape");
            }
            break;
        }
        default:
            free(buf);
            return perr(p, "unexpected character after '\\'");
        }
    }
    int rc = gj_value_new_string(out, buf, n);
    free(buf);
    return rc == 0 ? 0 : perr(p, "invalid UTF-8 in a string literal");
}

static gj_value *tagged_text(const char *tag, const char *text, size_t len)
{
    gj_value *s = NULL, *t = NULL;
    if (gj_value_new_string(&s, text, len) != 0 || gj_value_new_tagged(&t, tag, s) != 0)
        return NULL;
    return t;
}

static int number_literal(parser *p, bool negative, gj_value **out)
{
    const char *s = p->s;
    size_t start = p->pos, i = p->pos;
    bool decimal = false, exponent = false;
    while (isdigit((unsigned char)s[i]))
        i++;
    if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
        decimal = true;
        i++;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    if ((s[i] == 'e' || s[i] == 'E') &&
        (isdigit((unsigned char)s[i + 1]) || ((s[i + 1] == '-' || s[i + 1] == '+') && isdigit((unsigned char)s[i + 2])))) {
        exponent = true;
        i += 2;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    char text[128];
    size_t len = i - start;
    if (len + 2 > sizeof text)
        return perr(p, "number literal too long");
    text[0] = '-';
    memcpy(text + 1, s + start, len);
    text[len + 1] = '\0';
    const char *num = negative ? text : text + 1;
    size_t num_len = negative ? len + 1 : len;
    char suffix = 0;
    if (isalpha((unsigned char)s[i])) {
        suffix = (char)tolower((unsigned char)s[i]);
        if (suffix != 'l' && suffix != 'i' && suffix != 'd' && suffix != 'f' && suffix != 'g')
            return perr(p, "unexpected character in a number");
        i++;
    }
    if (isalnum((unsigned char)s[i]) || s[i] == '_')
        return perr(p, "unexpected character in a number");
    p->pos = i;
    int rc = 0;
    if (suffix == 'd' || suffix == 'f') {
        errno = 0;
        double d = strtod(num, NULL);
        rc = gj_value_new_float_bits(out, d, suffix == 'f' ? 32 : 64);
    } else if (decimal || exponent) {
        if (suffix && suffix != 'g')
            return perr(p, "bad suffix for a decimal number");
        if (exponent)
            return perr(p, "BigDecimal literals with an exponent are outside the repertoire");
        *out = tagged_text("gx:BigDecimal", num, num_len);
        rc = *out ? 0 : GJ_ENOMEM;
    } else if (suffix == 'g') {
        *out = tagged_text("gx:BigInteger", num, num_len);
        rc = *out ? 0 : GJ_ENOMEM;
    } else {
        errno = 0;
        long long v = strtoll(num, NULL, 10);
        bool fits64 = errno != ERANGE;
        if (suffix == 'i') {
            if (!fits64 || v < INT32_MIN || v > INT32_MAX)
                return perr(p, "Integer literal out of range");
            rc = gj_value_new_int_bits(out, v, 32);
        } else if (suffix == 'l') {
            if (!fits64)
                return perr(p, "Long literal out of range");
            rc = gj_value_new_int_bits(out, v, 64);
        } else if (!fits64) {
            *out = tagged_text("gx:BigInteger", num, num_len);
            rc = *out ? 0 : GJ_ENOMEM;
        } else {
            rc = gj_value_new_int_bits(out, v, (v >= INT32_MIN && v <= INT32_MAX) ? 32 : 64);
        }
    }
    return rc == 0 ? 0 : perr(p, "out of memory");
}

static int literal(parser *p, gj_value **out);

static int list_literal(parser *p, gj_value **out)
{
    gj_value *list = NULL;
    if (gj_value_new_list(&list, 4) != 0)
        return perr(p, "out of memory");
    if (!take(p, ']')) {
        do {
            gj_value *item = NULL;
            if (literal(p, &item) != 0) {
                gj_value_unref(list);
                return -1;
            }
            gj_value_list_append(list, item);
        } while (take(p, ','));
        if (expect(p, ']') != 0) {
            gj_value_unref(list);
            return -1;
        }
    }
    *out = list;
    return 0;
}

/* A literal at the cursor; 1 when there is none (nothing consumed). */
static int try_literal(parser *p, gj_value **out)
{
    skip_ws(p);
    char c = p->s[p->pos];
    if (c == '\'' || c == '"')
        return string_literal(p, out);
    if (c == '-' || isdigit((unsigned char)c)) {
        bool negative = c == '-';
        if (negative) {
            p->pos++;
            skip_ws(p);
            if (!isdigit((unsigned char)p->s[p->pos]))
                return perr(p, "unexpected '-'");
        }
        return number_literal(p, negative, out);
    }
    if (c == '[') {
        p->pos++;
        return list_literal(p, out);
    }
    if (keyword(p, "true")) {
        *out = gj_value_bool(true);
        return 0;
    }
    if (keyword(p, "false")) {
        *out = gj_value_bool(false);
        return 0;
    }
    if (keyword(p, "null")) {
        *out = gj_value_null();
        return 0;
    }
    return 1;
}

static int literal(parser *p, gj_value **out)
{
    int rc = try_literal(p, out);
    return rc == 1 ? perr(p, "expecting a literal") : rc;
}

static int arg(parser *p, gs_arg *a)
{
    memset(a, 0, sizeof *a);
    int rc = try_literal(p, &a->value);
    if (rc <= 0)
        return rc;
    char name[GS_TEXT_MAX];
    if (!ident(p, name, sizeof name) || reserved(name))
        return perr(p, "expecting a literal or a variable");
    a->name = strdup(name);
    return a->name ? 0 : perr(p, "out of memory");
}

static void args_free(gs_arg *args, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        gj_value_unref(args[i].value);
        free(args[i].name);
    }
    free(args);
}

/* '(' [arg {',' arg}] ')' */
static int arg_list(parser *p, gs_arg **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (expect(p, '(') != 0)
        return -1;
    if (take(p, ')'))
        return 0;
    size_t cap = 0;
    do {
        if (*n_out == cap) {
            cap = cap ? cap * 2 : 4;
            gs_arg *q = realloc(*out, cap * sizeof *q);
            if (!q)
                return perr(p, "out of memory");
            *out = q;
        }
        if (arg(p, &(*out)[*n_out]) != 0)
            return -1;
        (*n_out)++;
    } while (take(p, ','));
    return expect(p, ')');
}

void gs_plan_free(gs_plan *p)
{
    if (!p)
        return;
    free(p->name);
    args_free(p->source_args, p->n_source_args);
    for (size_t i = 0; i < p->n_steps; i++)
        args_free(p->steps[i].args, p->steps[i].n_args);
    free(p->steps);
    gj_value_unref(p->value.value);
    free(p->value.name);
    free(p->message);
    memset(p, 0, sizeof *p);
}

static int add_step(parser *p, gs_plan *plan, gs_step_kind kind, gs_arg *args, size_t n_args)
{
    gs_step *q = realloc(plan->steps, (plan->n_steps + 1) * sizeof *q);
    if (!q) {
        args_free(args, n_args);
        return perr(p, "out of memory");
    }
    plan->steps = q;
    q[plan->n_steps++] = (gs_step){ kind, args, n_args };
    return 0;
}

static int step_of(parser *p, gs_plan *plan, const char *name, gs_arg *args, size_t n)
{
    static const struct {
        const char *name;
        gs_step_kind kind;
        int min_args, max_args;
    } steps[] = {
        { "hasLabel", GS_STEP_HAS_LABEL, 1, 16 }, { "values", GS_STEP_VALUES, 0, 16 },
        { "limit", GS_STEP_LIMIT, 1, 1 }, { "count", GS_STEP_COUNT, 0, 0 },
        { "unfold", GS_STEP_UNFOLD, 0, 0 },
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (strcmp(name, steps[i].name))
            continue;
        if ((int)n < steps[i].min_args || (int)n > steps[i].max_args) {
            args_free(args, n);
            return perr(p, "wrong number of arguments for a step");
        }
        return add_step(p, plan, steps[i].kind, args, n);
    }
    args_free(args, n);
    char what[GS_TEXT_MAX + 64];
    snprintf(what, sizeof what, "the step %s() is outside the repertoire", name);
    return perr(p, what);
}

static int traversal(parser *p, gs_plan *plan)
{
    char name[GS_TEXT_MAX];
    if (!ident(p, name, sizeof name))
        return perr(p, "expecting a step");
    if (!strcmp(name, "V"))
        plan->source = GS_SOURCE_V;
    else if (!strcmp(name, "E"))
        plan->source = GS_SOURCE_E;
    else if (!strcmp(name, "inject"))
        plan->source = GS_SOURCE_INJECT;
    else
        return perr(p, "a traversal starts with V(), E() or inject()");
    if (arg_list(p, &plan->source_args, &plan->n_source_args) != 0)
        return -1;
    while (take(p, '.')) {
        gs_arg *args;
        size_t n;
        if (!ident(p, name, sizeof name))
            return perr(p, "expecting a step");
        if (arg_list(p, &args, &n) != 0) {
            args_free(args, n);
            return -1;
        }
        if (step_of(p, plan, name, args, n) != 0)
            return -1;
    }
    return 0;
}

static int statement(parser *p, gs_plan *plan)
{
    char name[GS_TEXT_MAX];
    size_t save = p->pos;
    if (keyword(p, "Thread") && take(p, '.') && keyword(p, "sleep")) {
        gs_arg *args;
        size_t n;
        plan->kind = GS_PLAN_SLEEP;
        if (arg_list(p, &args, &n) != 0) {
            args_free(args, n);
            return -1;
        }
        int64_t ms = 0;
        bool ok = n == 1 && args[0].value && gj_value_int_get(args[0].value, &ms) == 0 && ms >= 0;
        args_free(args, n);
        plan->sleep_ms = ms;
        return ok ? 0 : perr(p, "Thread.sleep() takes a number of milliseconds");
    }
    p->pos = save;
    if (keyword(p, "throw")) {
        plan->kind = GS_PLAN_THROW;
        if (!keyword(p, "new") || !keyword(p, "Exception"))
            return perr(p, "only 'throw new Exception(message)' is in the repertoire");
        gs_arg *args;
        size_t n;
        if (arg_list(p, &args, &n) != 0) {
            args_free(args, n);
            return -1;
        }
        const char *msg;
        size_t len;
        bool ok = n == 1 && args[0].value && gj_value_string_get(args[0].value, &msg, &len) == 0;
        if (ok)
            plan->message = strdup(msg);
        args_free(args, n);
        return ok && plan->message ? 0 : perr(p, "new Exception() takes a string literal");
    }
    if (!ident(p, name, sizeof name) || reserved(name))
        return perr(p, "unexpected input");
    plan->name = strdup(name);
    if (!plan->name)
        return perr(p, "out of memory");
    if (take(p, '=')) {
        plan->kind = GS_PLAN_ASSIGN;
        return arg(p, &plan->value);
    }
    if (take(p, '.')) {
        plan->kind = GS_PLAN_TRAVERSAL;
        return traversal(p, plan);
    }
    plan->kind = GS_PLAN_VARIABLE;
    return 0;
}

int gs_script_parse(const char *script, gs_plan *out, char *errbuf, size_t errlen)
{
    parser p = { script, 0, errbuf, errlen, false };
    memset(out, 0, sizeof *out);
    if (statement(&p, out) == 0) {
        take(&p, ';');
        skip_ws(&p);
        if (p.s[p.pos] == '\0')
            return 0;
        perr(&p, "unexpected input");
    }
    gs_plan_free(out);
    return -1;
}

/* ---- bytecode ------------------------------------------------------------------------- */

static int bc_args(const gj_value *instruction, gs_arg **out, size_t *n_out)
{
    size_t n = gj_value_size(instruction) - 1;
    *out = NULL;
    *n_out = 0;
    if (n == 0)
        return 0;
    gs_arg *args = calloc(n, sizeof *args);
    if (!args)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const gj_value *v = gj_value_list_at(instruction, i + 1);
        const char *tag;
        const gj_value *inner;
        if (gj_value_tagged_get(v, &tag, &inner) == 0 && !strcmp(tag, "g:Binding"))
            v = gj_value_map_get(inner, "value");   /* a Binding stands for its value */
        args[i].value = gj_value_ref(v ? v : gj_value_null());
    }
    *out = args;
    *n_out = n;
    return 0;
}

int gs_bytecode_plan(const gj_value *bytecode, gs_plan *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->kind = GS_PLAN_TRAVERSAL;
    parser p = { "(bytecode)", 0, errbuf, errlen, false };
    const gj_value *steps = gj_value_map_get(bytecode, "step");
    const gj_value *sources = gj_value_map_get(bytecode, "source");
    if (sources && gj_value_size(sources) > 0) {
        snprintf(errbuf, errlen, "source instructions are outside gremlin-refserver's repertoire");
        return -1;
    }
    size_t n = gj_value_size(steps);
    for (size_t i = 0; i < n; i++) {
        const gj_value *ins = gj_value_list_at(steps, i);
        const char *name;
        size_t len;
        gs_arg *args;
        size_t n_args;
        if (gj_value_size(ins) < 1 || gj_value_string_get(gj_value_list_at(ins, 0), &name, &len) != 0 ||
            bc_args(ins, &args, &n_args) != 0) {
            snprintf(errbuf, errlen, "malformed bytecode instruction");
            gs_plan_free(out);
            return -1;
        }
        int rc = 0;
        if (i == 0) {
            if (!strcmp(name, "V") || !strcmp(name, "E") || !strcmp(name, "inject")) {
                out->source = name[0] == 'V' ? GS_SOURCE_V : name[0] == 'E' ? GS_SOURCE_E : GS_SOURCE_INJECT;
                out->source_args = args;
                out->n_source_args = n_args;
            } else {
                args_free(args, n_args);
                rc = -1;
            }
        } else {
            rc = step_of(&p, out, name, args, n_args);
        }
        if (rc != 0) {
            snprintf(errbuf, errlen, "the step %s() is outside gremlin-refserver's repertoire", name);
            gs_plan_free(out);
            return -1;
        }
    }
    if (n == 0) {
        snprintf(errbuf, errlen, "empty bytecode");
        return -1;
    }
    return 0;
}
