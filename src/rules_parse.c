/* rules_parse.c - expressions to syntax trees (recursive descent with a depth limit), and
 * rules from YAML nodes (id, check, message, for, each, tolerance, …). Errors carry the
 * file:line:column of the culprit inside the mapping file. */
#include "rules_int.h"
#include "utf8.h"
#include "yaml_pos.h"

#include <ctype.h>
#include <stdarg.h>
#include <libfyaml.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- expressions */

typedef struct rparser {
    rlexer lx;
    rtok tok; /* current token */
    int depth;
    ps_origin origin;
    ps_error *err;
    bool failed;
} rparser;

void ps_rule_place(ps_origin origin, const char *text, size_t pos, int *line, int *col)
{
    int l, c;
    ps_rlex_position(text ? text : "", pos, &l, &c);
    if (origin.line > 0) {
        c = l == 1 && origin.col > 0 ? origin.col + c - 1 : c;
        l = origin.line + l - 1;
    }
    *line = l;
    *col = c;
}

static void place(const rparser *p, size_t pos, int *line, int *col)
{
    ps_rule_place(p->origin, p->lx.src, pos, line, col);
}

static rnode *fail_at(rparser *p, size_t pos, const char *fmt, const char *a)
{
    if (p->failed)
        return NULL;
    int line, col;
    place(p, pos, &line, &col);
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    ps_error_at_line(p->err, PS_ERR_RULE_SYNTAX, p->origin.file, line, col, "%s", msg);
    if (p->err)
        p->err->span = ps_rlex_token_chars(p->lx.src, pos);
    p->failed = true;
    return NULL;
}

static rnode *fail_nomem(rparser *p)
{
    if (!p->failed)
        ps_error_set(p->err, PS_ERR_NOMEM, p->origin.file, "内存不足");
    p->failed = true;
    return NULL;
}

static bool advance(rparser *p)
{
    ps_rtok_clear(&p->tok);
    if (ps_rlex_next(&p->lx, &p->tok) == T_BAD) {
        fail_at(p, p->lx.errpos, "%s", p->lx.errmsg);
        return false;
    }
    return true;
}

void ps_rnode_free(rnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nargs; i++)
        ps_rnode_free(n->args[i]);
    free(n->args);
    ps_rnode_free(n->where);
    pcre2_code_free(n->re); /* takes NULL */
    for (size_t i = 0; i < n->nres; i++)
        pcre2_code_free(n->res[i]);
    free(n->res);
    free(n->str);
    free(n->ns);
    free(n->table);
    free(n);
}

static rnode *new_node(rparser *p, rnode_kind kind, size_t pos)
{
    rnode *n = calloc(1, sizeof *n);
    if (!n)
        return fail_nomem(p);
    n->kind = kind;
    n->pos = pos;
    n->depth = 1;
    return n;
}

static bool push_arg(rparser *p, rnode *n, rnode *arg)
{
    rnode **a = realloc(n->args, (n->nargs + 1) * sizeof *a);
    if (!a) {
        ps_rnode_free(arg);
        fail_nomem(p);
        return false;
    }
    n->args = a;
    n->args[n->nargs++] = arg;
    return true;
}

static rnode *too_deep(rparser *p, size_t pos)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", PS_RULE_MAX_DEPTH);
    return fail_at(p, pos, "表达式嵌套过深（超过 %s 层）", lim);
}

/* The height of n from its children's. */
static int height(const rnode *n)
{
    int h = 0;
    for (size_t i = 0; i < n->nargs; i++)
        if (n->args[i]->depth > h)
            h = n->args[i]->depth;
    if (n->where && n->where->depth > h)
        h = n->where->depth;
    return h + 1;
}

static rnode *binary(rparser *p, rnode_kind kind, int op, size_t pos, rnode *l, rnode *r)
{
    rnode *n = l && r ? new_node(p, kind, pos) : NULL;
    rnode **args = n ? malloc(2 * sizeof *args) : NULL;
    if (!args) {
        if (n)
            fail_nomem(p);
        free(n);
        ps_rnode_free(l);
        ps_rnode_free(r);
        return NULL;
    }
    args[0] = l;
    args[1] = r;
    n->args = args;
    n->nargs = 2;
    n->op = op;
    /* a long chain (a + b + c …) is a deep tree too: evaluation recurses its height */
    n->depth = 1 + (l->depth > r->depth ? l->depth : r->depth);
    if (n->depth > PS_RULE_MAX_DEPTH) {
        ps_rnode_free(n);
        return too_deep(p, pos);
    }
    return n;
}

/* A node of one operand (NEG, NOT); takes arg, also when it fails. */
static rnode *unary(rparser *p, rnode_kind kind, size_t pos, rnode *arg)
{
    rnode *n = new_node(p, kind, pos);
    if (!n || !push_arg(p, n, arg)) {
        if (!n)
            ps_rnode_free(arg);
        ps_rnode_free(n);
        return NULL;
    }
    n->depth = height(n);
    return n;
}

static const struct {
    const char *name;
    rfunc fn;
    int min, max; /* argument counts; max -1 = any */
    bool aggregate;
} functions[] = {
    {"SUM", F_SUM, 1, 1, true},
    {"COUNT", F_COUNT, 1, 1, true},
    {"MIN", F_MIN, 1, -1, true},
    {"MAX", F_MAX, 1, -1, true},
    {"ABS", F_ABS, 1, 1, false},
    {"ROUND", F_ROUND, 1, 2, false},
    {"COALESCE", F_COALESCE, 1, -1, false},
    {"PRESENT", F_PRESENT, 1, 1, false},
    {"BLANK", F_BLANK, 1, 1, false},
    {"MATCHES", F_MATCHES, 2, 2, false},
    {"DIGITS", F_DIGITS, 1, 1, false},
    {"TEXT", F_TEXT, 1, 1, false},
    {"NUMBER", F_NUMBER, 1, 1, false},
    {"IF", F_IF, 3, -1, false},
    {"YEAR", F_YEAR, 1, 1, false},
    {"THIS_YEAR", F_THIS_YEAR, 0, 0, false},
    {"IN", F_IN, 2, -1, false},
    {"LEN", F_LEN, 1, 1, false},
    {"FORMULA", F_FORMULA, 1, 1, false},
    {"RAW", F_RAW, 1, 1, false},
};

static rnode *parse_or(rparser *p);

static bool enter(rparser *p)
{
    if (++p->depth > PS_RULE_MAX_DEPTH) {
        too_deep(p, p->tok.pos);
        return false;
    }
    return true;
}

/* An operator (at byte op_pos) without its right operand. */
static rnode *operand_missing(rparser *p, const char *after, size_t op_pos)
{
    if (p->tok.kind == T_END)
        return fail_at(p, op_pos, "%s 后缺少数值", after);
    char what[96];
    snprintf(what, sizeof what, "%s 后应为数值、字段或 “(”，而不是 %s", after, ps_rtok_name(p->tok.kind));
    return fail_at(p, p->tok.pos, "%s", what);
}

static rnode *parse_call(rparser *p, char *name, size_t pos)
{
    size_t f;
    for (f = 0; f < sizeof functions / sizeof functions[0]; f++)
        if (strcasecmp(functions[f].name, name) == 0)
            break;
    if (f == sizeof functions / sizeof functions[0]) {
        rnode *r = fail_at(p, pos, "未知函数 “%s”", name);
        free(name);
        return r;
    }
    free(name);
    rnode *n = new_node(p, N_CALL, pos);
    if (!n)
        return NULL;
    n->fn = functions[f].fn;
    size_t open = p->tok.pos;
    if (!advance(p)) /* past "(" */
        goto fail;
    if (p->tok.kind != T_RPAREN) {
        for (;;) {
            rnode *arg = parse_or(p);
            if (!arg || !push_arg(p, n, arg))
                goto fail;
            if (p->tok.kind == T_WHERE) {
                if (!functions[f].aggregate || n->nargs != 1 || arg->kind != N_COL) {
                    fail_at(p, p->tok.pos, "%s", "WHERE 只能跟在 SUM/COUNT/MIN/MAX 的表列参数之后");
                    goto fail;
                }
                if (!advance(p))
                    goto fail;
                if (!(n->where = parse_or(p)))
                    goto fail;
            }
            if (p->tok.kind == T_COMMA) {
                if (!advance(p))
                    goto fail;
                continue;
            }
            break;
        }
    }
    if (p->tok.kind != T_RPAREN) {
        if (p->tok.kind == T_END)
            fail_at(p, open, "%s", "“(” 没有对应的 “)”");
        else
            fail_at(p, p->tok.pos, "函数参数之间应为 “,” 或 “)”，而不是 %s", ps_rtok_name(p->tok.kind));
        goto fail;
    }
    int nargs = (int)n->nargs;
    if (nargs < functions[f].min || (functions[f].max >= 0 && nargs > functions[f].max)) {
        char msg[160];
        if (functions[f].min == functions[f].max)
            snprintf(msg, sizeof msg, "%s 需要 %d 个参数，这里有 %d 个", functions[f].name, functions[f].min,
                     nargs);
        else
            snprintf(msg, sizeof msg, "%s 至少需要 %d 个参数，这里有 %d 个", functions[f].name,
                     functions[f].min, nargs);
        fail_at(p, pos, "%s", msg);
        goto fail;
    }
    if ((n->fn == F_SUM || n->fn == F_COUNT) && n->args[0]->kind != N_COL) {
        fail_at(p, n->args[0]->pos, "%s 的参数应为表列，如 projects[].final",
                n->fn == F_SUM ? "SUM" : "COUNT");
        goto fail;
    }
    if (n->fn == F_SUM && !n->args[0]->str) {
        fail_at(p, n->args[0]->pos, "%s", "SUM 需要表列名，如 projects[].final");
        goto fail;
    }
    if (!advance(p)) /* past ")" */
        goto fail;
    if ((n->depth = height(n)) > PS_RULE_MAX_DEPTH) {
        too_deep(p, pos);
        goto fail;
    }
    return n;
fail:
    ps_rnode_free(n);
    return NULL;
}

static rnode *parse_primary(rparser *p)
{
    if (!enter(p))
        return NULL;
    rnode *n = NULL;
    size_t pos = p->tok.pos;
    switch (p->tok.kind) {
    case T_NUM:
        if ((n = new_node(p, N_NUM, pos)))
            n->num = p->tok.num;
        if (n && !advance(p)) {
            ps_rnode_free(n);
            n = NULL;
        }
        break;
    case T_STR:
    case T_IDENT:
    case T_NSFIELD:
    case T_COL: {
        rtok t = p->tok;
        memset(&p->tok, 0, sizeof p->tok);
        if (!advance(p)) {
            ps_rtok_clear(&t);
            break;
        }
        if (t.kind == T_IDENT && p->tok.kind == T_LPAREN) {
            n = parse_call(p, t.text, pos);
            t.text = NULL;
            ps_rtok_clear(&t);
            break;
        }
        n = new_node(p, t.kind == T_STR ? N_STR : t.kind == T_COL ? N_COL : N_FIELD, pos);
        if (!n) {
            ps_rtok_clear(&t);
            break;
        }
        if (t.kind == T_COL) {
            n->table = t.text;
            n->str = t.text2;
        } else if (t.kind == T_NSFIELD) {
            n->ns = t.text;
            n->str = t.text2;
        } else {
            n->str = t.text;
        }
        n->has_var = t.kind != T_STR && n->str && strchr(n->str, '{') != NULL;
        if (t.kind == T_COL && n->table && strchr(n->table, '{'))
            n->has_var = true;
        break;
    }
    case T_LPAREN: {
        size_t open = pos;
        if (!advance(p))
            break;
        n = parse_or(p);
        if (!n)
            break;
        if (p->tok.kind != T_RPAREN) {
            if (p->tok.kind == T_END)
                fail_at(p, open, "%s", "“(” 没有对应的 “)”");
            else
                fail_at(p, p->tok.pos, "此处应为 “)”，而不是 %s", ps_rtok_name(p->tok.kind));
            ps_rnode_free(n);
            n = NULL;
            break;
        }
        if (!advance(p)) {
            ps_rnode_free(n);
            n = NULL;
        }
        break;
    }
    case T_END: fail_at(p, pos, "%s", "规则不完整：缺少数值或字段"); break;
    default: fail_at(p, pos, "此处应为数值、字段或 “(”，而不是 %s", ps_rtok_name(p->tok.kind)); break;
    }
    p->depth--;
    return n;
}

static rnode *parse_unary(rparser *p)
{
    if (p->tok.kind == T_MINUS || p->tok.kind == T_PLUS) {
        if (!enter(p))
            return NULL;
        bool neg = p->tok.kind == T_MINUS;
        size_t pos = p->tok.pos;
        const char *name = ps_rtok_name(p->tok.kind);
        if (!advance(p)) {
            p->depth--;
            return NULL;
        }
        rnode *arg = NULL;
        if (p->tok.kind == T_END || p->tok.kind == T_RPAREN || p->tok.kind == T_COMMA)
            operand_missing(p, name, pos);
        else
            arg = parse_unary(p);
        p->depth--;
        return arg && neg ? unary(p, N_NEG, pos, arg) : arg;
    }
    return parse_primary(p);
}

static rnode *parse_binary_rhs(rparser *p, rnode *(*next)(rparser *), const char *opname, size_t op_pos)
{
    if (p->tok.kind == T_END || p->tok.kind == T_RPAREN || p->tok.kind == T_COMMA || p->tok.kind == T_PLUS ||
        p->tok.kind == T_STAR || p->tok.kind == T_SLASH || p->tok.kind == T_EQ || p->tok.kind == T_AND ||
        p->tok.kind == T_OR)
        return operand_missing(p, opname, op_pos);
    return next(p);
}

/* A level of left-associative operators: operands from next, joined while the token is a or b
 * (N_ARITH nodes keep the operator's character). */
static rnode *parse_left(rparser *p, rnode *(*next)(rparser *), rnode_kind kind, rtok_kind a, rtok_kind b)
{
    static const char arith[] = {[T_PLUS] = '+', [T_MINUS] = '-', [T_STAR] = '*', [T_SLASH] = '/'};
    rnode *l = next(p);
    while (l && (p->tok.kind == a || p->tok.kind == b)) {
        int op = kind == N_ARITH ? arith[p->tok.kind] : 0;
        size_t pos = p->tok.pos;
        const char *name = ps_rtok_name(p->tok.kind);
        if (!advance(p)) {
            ps_rnode_free(l);
            return NULL;
        }
        rnode *r = parse_binary_rhs(p, next, name, pos);
        l = binary(p, kind, op, pos, l, r);
    }
    return l;
}

static rnode *parse_mul(rparser *p)
{
    return parse_left(p, parse_unary, N_ARITH, T_STAR, T_SLASH);
}

static rnode *parse_add(rparser *p)
{
    return parse_left(p, parse_mul, N_ARITH, T_PLUS, T_MINUS);
}

static bool is_cmp(rtok_kind k)
{
    return k >= T_EQ && k <= T_GE;
}

static rnode *parse_cmp(rparser *p)
{
    rnode *l = parse_add(p);
    if (l && is_cmp(p->tok.kind)) {
        rtok_kind op = p->tok.kind;
        size_t pos = p->tok.pos;
        const char *name = ps_rtok_name(op);
        if (!advance(p)) {
            ps_rnode_free(l);
            return NULL;
        }
        rnode *r = parse_binary_rhs(p, parse_add, name, pos);
        l = binary(p, N_CMP, (int)op, pos, l, r);
        if (l && is_cmp(p->tok.kind)) {
            fail_at(p, p->tok.pos, "%s", "比较不能连写（a = b = c）：请用 AND 连接两个比较");
            ps_rnode_free(l);
            return NULL;
        }
    }
    return l;
}

static rnode *parse_not(rparser *p)
{
    if (p->tok.kind != T_NOT)
        return parse_cmp(p);
    if (!enter(p))
        return NULL;
    size_t pos = p->tok.pos;
    rnode *arg = NULL;
    if (advance(p))
        arg = parse_binary_rhs(p, parse_not, "NOT", pos);
    p->depth--;
    return arg ? unary(p, N_NOT, pos, arg) : NULL;
}

static rnode *parse_and(rparser *p)
{
    return parse_left(p, parse_not, N_AND, T_AND, T_AND);
}

static rnode *parse_or(rparser *p)
{
    if (!enter(p))
        return NULL;
    rnode *l = parse_left(p, parse_and, N_OR, T_OR, T_OR);
    p->depth--;
    return l;
}

rnode *ps_rparse_expr(const char *text, ps_origin origin, ps_error *err)
{
    rparser p = {0};
    p.origin = origin;
    p.err = err;
    p.lx.src = text ? text : "";
    p.lx.len = strlen(p.lx.src);
    if (p.lx.len > PS_RULE_MAX_TEXT) {
        fail_at(&p, 0, "规则过长（超过 %s 字节）", "8192");
        return NULL;
    }
    if (!advance(&p))
        return NULL;
    if (p.tok.kind == T_END) {
        fail_at(&p, 0, "%s", "规则为空");
        return NULL;
    }
    rnode *n = parse_or(&p);
    if (n && p.tok.kind != T_END) {
        if (p.tok.kind == T_RPAREN)
            fail_at(&p, p.tok.pos, "%s", "多余的 “)”");
        else
            fail_at(&p, p.tok.pos, "此处应为运算符或规则结尾，而不是 %s", ps_rtok_name(p.tok.kind));
        ps_rnode_free(n);
        n = NULL;
    }
    ps_rtok_clear(&p.tok);
    return n;
}

/* ---------------------------------------------------------------- rules */

static rnode *first_cmp(rnode *n)
{
    if (!n)
        return NULL;
    if (n->kind == N_CMP)
        return n;
    if (n->kind == N_AND || n->kind == N_OR || n->kind == N_NOT)
        for (size_t i = 0; i < n->nargs; i++) {
            rnode *c = first_cmp(n->args[i]);
            if (c)
                return c;
        }
    return NULL;
}

static bool add_ns(ps_rule *r, const char *ns)
{
    for (size_t i = 0; i < r->nns; i++)
        if (strcmp(r->ns[i], ns) == 0)
            return true;
    char **a = realloc(r->ns, (r->nns + 1) * sizeof *a);
    if (!a)
        return false;
    r->ns = a;
    if (!(r->ns[r->nns] = strdup(ns)))
        return false;
    r->nns++;
    return true;
}

/* Collects namespaces; checks that table columns outside aggregates only appear in each: rules
 * over that table. Returns the offending node or NULL. */
static rnode *walk_check(ps_rule *r, rnode *n, bool in_aggregate, bool *nomem)
{
    if (!n)
        return NULL;
    if (n->kind == N_FIELD && n->ns && !add_ns(r, n->ns))
        *nomem = true;
    if (n->kind == N_COL && !in_aggregate && (!r->each_table || strcmp(r->each_table, n->table) != 0))
        return n;
    bool agg = n->kind == N_CALL &&
               (n->fn == F_SUM || n->fn == F_COUNT || ((n->fn == F_MIN || n->fn == F_MAX) && n->nargs == 1));
    for (size_t i = 0; i < n->nargs; i++) {
        rnode *bad = walk_check(r, n->args[i], in_aggregate || agg, nomem);
        if (bad)
            return bad;
    }
    return NULL;
}

void ps_rule_free(ps_rule *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->check_text);
    ps_rnode_free(r->check);
    ps_rnode_free(r->when);
    ps_rnode_free(r->expected);
    ps_rnode_free(r->actual);
    ps_rnode_free(r->at);
    free(r->message);
    free(r->blank_message);
    free(r->formula_message);
    for (size_t v = 0; v < r->vars.nvars; v++) {
        free(r->vars.names[v]);
        for (size_t i = 0; r->vars.values[v] && i < r->vars.count; i++)
            free(r->vars.values[v][i]);
        free(r->vars.values[v]);
    }
    free(r->vars.names);
    free(r->vars.values);
    free(r->each_table);
    free(r->each_group);
    for (size_t i = 0; i < r->nns; i++)
        free(r->ns[i]);
    free(r->ns);
    rmsg *msgs[] = {&r->msg, &r->blank_msg, &r->formula_msg};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < msgs[k]->nparts; i++) {
            free(msgs[k]->parts[i].text);
            free(msgs[k]->parts[i].ns);
            free(msgs[k]->parts[i].table);
        }
        free(msgs[k]->parts);
    }
    free(r->file);
    free(r->when_text);
    free(r->expected_text);
    free(r->actual_text);
    free(r->at_text);
    free(r->each_text);
    if (r->hier) {
        free(r->hier->table);
        free(r->hier->code);
        for (size_t i = 0; i < r->hier->ncols; i++) {
            free(r->hier->cols[i]);
            free(r->hier->labels[i]);
        }
        free(r->hier->cols);
        free(r->hier->labels);
        free(r->hier->cols_at);
        free(r->hier);
    }
    free(r);
}

const char *ps_rule_id(const ps_rule *r)
{
    return r->id;
}
ps_severity ps_rule_severity(const ps_rule *r)
{
    return r->severity;
}
size_t ps_rule_namespace_count(const ps_rule *r)
{
    return r->nns;
}
const char *ps_rule_namespace(const ps_rule *r, size_t i)
{
    return i < r->nns ? r->ns[i] : NULL;
}

/* ---------------------------------------------------------------- for: variables */

/* The index of the for: variable named by the n bytes at s, or -1. */
static int var_index(const ps_rule *r, const char *s, size_t n)
{
    for (size_t v = 0; v < r->vars.nvars; v++)
        if (strlen(r->vars.names[v]) == n && strncmp(r->vars.names[v], s, n) == 0)
            return (int)v;
    return -1;
}

size_t ps_rule_subst(const ps_rule *r, size_t binding, const char *s, char *buf, size_t size)
{
    size_t o = 0;
    for (const char *p = s; *p;) {
        const char *close = *p == '{' ? strchr(p + 1, '}') : NULL;
        int v = close ? var_index(r, p + 1, (size_t)(close - p - 1)) : -1;
        if (v >= 0 && binding < r->vars.count) {
            const char *val = r->vars.values[v][binding];
            for (const char *q = val; *q; q++, o++)
                if (o + 1 < size)
                    buf[o] = *q;
            p = close + 1;
            continue;
        }
        if (o + 1 < size)
            buf[o] = *p;
        o++;
        p++;
    }
    if (size)
        buf[o < size ? o : size - 1] = '\0';
    return o;
}

/* Does s hold a {var} of r's for:? */
static bool holds_var(const ps_rule *r, const char *s)
{
    for (const char *p = s ? strchr(s, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p + 1, '}');
        if (close && var_index(r, p + 1, (size_t)(close - p - 1)) >= 0)
            return true;
    }
    return false;
}

/* Every {…} of a name must be a for: variable: the first that is not, or NULL. */
static const char *unknown_var(const ps_rule *r, const char *s, size_t *len)
{
    for (const char *p = s ? strchr(s, '{') : NULL; p; p = strchr(p + 1, '{')) {
        const char *close = strchr(p + 1, '}');
        size_t n = close ? (size_t)(close - p - 1) : strlen(p + 1);
        if (!close || var_index(r, p + 1, n) < 0) {
            *len = n;
            return p + 1;
        }
    }
    return NULL;
}

/* The places of a rule's text: for errors while binding. */
typedef struct rwhere {
    const char *text;
    ps_origin origin;
    bool expr; /* an expression, not a message */
} rwhere;

static ps_status where_error(ps_error *err, rwhere w, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An error in an expression (a bad pattern, an unknown {var}) is a syntax error like the
 * parser's; one in a message is a mapping error. */
static ps_status where_error(ps_error *err, rwhere w, size_t pos, const char *fmt, ...)
{
    int line, col;
    ps_rule_place(w.origin, w.text, pos, &line, &col);
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_status st = ps_error_at_line(err, w.expr ? PS_ERR_RULE_SYNTAX : PS_ERR_MAPPING, w.origin.file, line,
                                    col, "%s", msg);
    if (err)
        err->span = ps_rlex_token_chars(w.text, pos);
    return st;
}

static pcre2_code *compile_regex(const char *pattern, rwhere w, size_t pos, ps_error *err)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL);
    if (!re) {
        PCRE2_UCHAR buf[200];
        pcre2_get_error_message(code, buf, sizeof buf);
        where_error(err, w, pos, "无效的正则表达式 “%s”（第 %zu 个字节处）：%s", pattern, (size_t)at + 1,
                    (const char *)buf);
        return NULL;
    }
    return re;
}

/* Marks the names and strings of n that hold for: variables, refuses a {x} that is none, and
 * compiles literal MATCHES patterns (once per binding when they hold a variable). */
static ps_status bind_node(ps_rule *r, rnode *n, rwhere w, ps_error *err)
{
    if (!n)
        return PS_OK;
    size_t len = 0;
    const char *bad = NULL;
    if (n->kind == N_FIELD || n->kind == N_COL) {
        if (!(bad = unknown_var(r, n->str, &len)))
            bad = unknown_var(r, n->table, &len);
        if (bad)
            return where_error(err, w, n->pos, "规则 %s：“{%.*s}” 不是 for: 的变量%s", r->id ? r->id : "",
                               (int)(len > 60 ? 60 : len), bad, r->vars.nvars ? "" : "（这条规则没有 for:）");
        n->has_var = holds_var(r, n->str) || holds_var(r, n->table);
    } else if (n->kind == N_STR) {
        /* "{c}" is substituted like a name; a {word} that is no variable would be compared as
         * written and never match: a slip (regex counts such as {4} or {2,3} are no words) */
        for (const char *p = strchr(n->str, '{'); p; p = strchr(p + 1, '{')) {
            const char *close = strchr(p + 1, '}');
            size_t k = close ? (size_t)(close - p - 1) : 0;
            bool word = k > 0 && (isalpha((unsigned char)p[1]) || p[1] == '_');
            for (size_t i = 1; word && i < k; i++)
                word = isalnum((unsigned char)p[1 + i]) || p[1 + i] == '_';
            if (word && var_index(r, p + 1, k) < 0)
                return where_error(err, w, n->pos + 1 + (size_t)(p - n->str),
                                   "规则 %s：字符串中的 “{%.*s}” 不是 for: 的变量%s", r->id ? r->id : "",
                                   (int)k, p + 1, r->vars.nvars ? "" : "（这条规则没有 for:）");
        }
        n->has_var = holds_var(r, n->str);
    }
    for (size_t i = 0; i < n->nargs; i++)
        if (bind_node(r, n->args[i], w, err) != PS_OK)
            return err->code;
    if (bind_node(r, n->where, w, err) != PS_OK)
        return err->code;
    if (n->kind == N_CALL && n->fn == F_MATCHES && n->args[1]->kind == N_STR && !n->re && !n->res) {
        const rnode *pat = n->args[1];
        if (!pat->has_var)
            return (n->re = compile_regex(pat->str, w, pat->pos, err)) ? PS_OK : err->code;
        size_t count = r->vars.count;
        if (!(n->res = calloc(count ? count : 1, sizeof *n->res)))
            return ps_error_set(err, PS_ERR_NOMEM, w.origin.file, "内存不足");
        for (size_t b = 0; b < count; b++) {
            size_t need = ps_rule_subst(r, b, pat->str, NULL, 0);
            char *text = malloc(need + 1);
            if (!text)
                return ps_error_set(err, PS_ERR_NOMEM, w.origin.file, "内存不足");
            ps_rule_subst(r, b, pat->str, text, need + 1);
            n->res[b] = compile_regex(text, w, pat->pos, err);
            free(text);
            if (!n->res[b])
                return err->code;
            n->nres = b + 1;
        }
    }
    return PS_OK;
}

/* ---------------------------------------------------------------- messages */

static const struct {
    const char *name;
    rfmt f;
} fmt_names[] = {{"money", FMT_MONEY}, {"percent", FMT_PERCENT}, {"num", FMT_NUM},
                 {"int", FMT_INT},     {"text", FMT_TEXT},       {"raw", FMT_RAW}};

static rpart *add_part(rmsg *m, rpart_kind kind, size_t pos)
{
    rpart *p = realloc(m->parts, (m->nparts + 1) * sizeof *p);
    if (!p)
        return NULL;
    m->parts = p;
    p = &m->parts[m->nparts++];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->pos = pos;
    return p;
}

/* Compiles a message template into parts: literal text and {placeholders} - expected, actual,
 * id, a for: variable, a field (three_public.{c} with a variable inside), ns:field, T[].col -
 * each with an optional :format. Names are resolved later (ps_rule_resolve). */
static ps_status compile_message(ps_rule *r, const char *tpl, rwhere w, rmsg *m, ps_error *err)
{
    const char *file = w.origin.file;
    for (const char *s = tpl; *s;) {
        if (*s != '{') {
            const char *next = strchr(s, '{');
            size_t n = next ? (size_t)(next - s) : strlen(s);
            rpart *p = add_part(m, P_TEXT, (size_t)(s - tpl));
            if (!p || !(p->text = strndup(s, n)))
                return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            s += n;
            continue;
        }
        /* the closing brace, over nested {var}s */
        const char *close = NULL;
        int depth = 0;
        for (const char *q = s; *q; q++) {
            if (*q == '{')
                depth++;
            else if (*q == '}' && --depth == 0) {
                close = q;
                break;
            }
        }
        size_t pos = (size_t)(s - tpl);
        if (!close)
            return where_error(err, w, pos, "%s", "消息中的 “{” 没有对应的 “}”");
        if (close == s + 1)
            return where_error(err, w, pos, "%s", "消息中有空的 “{}”");
        const char *name = s + 1;
        const char *colon = NULL; /* the format's colon: the last ':' outside nested braces */
        depth = 0;
        for (const char *q = name; q < close; q++) {
            if (*q == '{')
                depth++;
            else if (*q == '}')
                depth--;
            else if (*q == ':' && depth == 0)
                colon = q;
        }
        rfmt f = FMT_AUTO;
        if (colon) {
            size_t fl = (size_t)(close - colon - 1);
            bool ok = false;
            for (size_t i = 0; i < sizeof fmt_names / sizeof fmt_names[0]; i++)
                if (strlen(fmt_names[i].name) == fl && strncmp(colon + 1, fmt_names[i].name, fl) == 0) {
                    f = fmt_names[i].f;
                    ok = true;
                }
            /* {jcsj:basic_expense.final}: a namespace, not a format, when what precedes the colon
             * is a template the rule's check reads */
            if (!ok) {
                bool ns = false;
                for (size_t i = 0; i < r->nns && !ns; i++)
                    ns = strlen(r->ns[i]) == (size_t)(colon - name) &&
                         !strncmp(r->ns[i], name, (size_t)(colon - name));
                if (ns) {
                    colon = NULL;
                } else {
                    const char *best = NULL;
                    char fmtname[40];
                    snprintf(fmtname, sizeof fmtname, "%.*s", (int)(fl < 30 ? fl : 30), colon + 1);
                    size_t lim = strlen(fmtname) >= 5 ? 2 : 1;
                    for (size_t i = 0; i < sizeof fmt_names / sizeof fmt_names[0]; i++)
                        if (!best && ps_rule_name_distance(fmtname, fmt_names[i].name, lim) <= lim)
                            best = fmt_names[i].name;
                    char hint[80] = "";
                    if (best)
                        snprintf(hint, sizeof hint, "。您是不是要写 “%s”？", best);
                    return where_error(err, w, (size_t)(colon + 1 - tpl),
                                       "消息中的格式 “%s” 无效（可用 money、percent、num、int、text、raw）%s",
                                       fmtname, hint);
                }
            }
        }
        const char *nend = colon ? colon : close;
        size_t nl = (size_t)(nend - name);
        rpart *p = NULL;
        int v = var_index(r, name, nl);
        if (nl == 8 && !strncmp(name, "expected", 8))
            p = add_part(m, P_EXPECTED, pos);
        else if (nl == 6 && !strncmp(name, "actual", 6))
            p = add_part(m, P_ACTUAL, pos);
        else if (nl == 2 && !strncmp(name, "id", 2))
            p = add_part(m, P_ID, pos);
        else if (nl == 10 && !strncmp(name, "difference", 10))
            p = add_part(m, P_DIFFERENCE, pos);
        else if (r->hier && nl == 8 && !strncmp(name, "relation", 8)) {
            if (colon)
                return where_error(err, w, pos, "%s", "{relation} 是一段文本，不能带格式");
            p = add_part(m, P_RELATION, pos);
        } else if (r->hier && nl == 6 && !strncmp(name, "column", 6)) {
            if (colon)
                return where_error(err, w, pos, "%s", "{column} 是一段文本，不能带格式");
            p = add_part(m, P_COLUMN, pos);
        } else if (v >= 0) {
            if (colon)
                return where_error(err, w, pos, "for: 的变量 {%.*s} 是一段文本，不能带格式", (int)nl, name);
            if ((p = add_part(m, P_VAR, pos)))
                p->var = (size_t)v;
        } else {
            char *key = strndup(name, nl);
            if (!key)
                return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            size_t bl;
            const char *bad = unknown_var(r, key, &bl);
            if (bad) {
                ps_status st = where_error(err, w, pos, "规则 %s：消息中的 “{%.*s}” 不是 for: 的变量",
                                           r->id ? r->id : "", (int)(bl > 60 ? 60 : bl), bad);
                free(key);
                return st;
            }
            char *br = strstr(key, "[].");
            char *nsc = strchr(key, ':');
            if (br) {
                p = add_part(m, P_COL, pos);
                if (p) {
                    *br = '\0';
                    p->table = key;
                    p->text = strdup(br + 3);
                }
            } else {
                p = add_part(m, P_FIELD, pos);
                if (p && nsc) {
                    *nsc = '\0';
                    p->ns = key;
                    p->text = strdup(nsc + 1);
                } else if (p) {
                    p->text = key;
                }
            }
            if (!p || !p->text) {
                if (!p)
                    free(key);
                return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            }
            p->has_var = holds_var(r, p->text) || holds_var(r, p->table);
        }
        if (!p)
            return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        p->fmt = f;
        s = close + 1;
    }
    return PS_OK;
}

/* Validates the compiled expressions (namespaces, table columns), binds the for: variables and
 * compiles regular expressions and messages. */
static ps_status finish_rule(ps_rule *r, ps_error *err)
{
    r->primary = first_cmp(r->check);
    rnode *parts[] = {r->check, r->when, r->expected, r->actual, r->at};
    rwhere where[] = {{r->check_text, r->check_at, true},
                      {r->when_text, r->when_at, true},
                      {r->expected_text, r->expected_at, true},
                      {r->actual_text, r->actual_at, true},
                      {r->at_text, r->at_at, true}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        bool nomem = false;
        rnode *bad = walk_check(r, parts[i], false, &nomem);
        if (nomem)
            return ps_error_set(err, PS_ERR_NOMEM, r->file, "内存不足");
        if (bad) {
            char name[200];
            snprintf(name, sizeof name, "%s[]%s%s", bad->table, bad->str ? "." : "",
                     bad->str ? bad->str : "");
            return where_error(err, where[i], bad->pos,
                               "表列 %s 只能用在 SUM/COUNT/MIN/MAX 中，或用在 each: 该表的规则里", name);
        }
        if (bind_node(r, parts[i], where[i], err) != PS_OK)
            return err->code;
    }
    const char *texts[] = {r->message, r->blank_message, r->formula_message};
    ps_origin at[] = {r->message_at, r->blank_message_at, r->formula_message_at};
    rmsg *msgs[] = {&r->msg, &r->blank_msg, &r->formula_msg};
    for (size_t i = 0; i < 3; i++)
        if (texts[i] && compile_message(r, texts[i], (rwhere){texts[i], at[i], false}, msgs[i], err) != PS_OK)
            return err->code;
    return PS_OK;
}

ps_rule *ps_rule_compile(const char *id, const char *text, ps_origin origin, ps_error *err)
{
    ps_rule *r = calloc(1, sizeof *r);
    if (!r) {
        ps_error_set(err, PS_ERR_NOMEM, origin.file, "内存不足");
        return NULL;
    }
    r->severity = PS_SEV_ERROR;
    r->blank_report = true;
    r->id = strdup(id ? id : "rule");
    r->check_text = strdup(text ? text : "");
    r->message = strdup("规则 {id} 不成立：应为 {expected}，表中为 {actual}");
    if (!r->id || !r->check_text || !r->message) {
        ps_rule_free(r);
        ps_error_set(err, PS_ERR_NOMEM, origin.file, "内存不足");
        return NULL;
    }
    if (origin.file && !(r->file = strdup(origin.file))) {
        ps_rule_free(r);
        ps_error_set(err, PS_ERR_NOMEM, origin.file, "内存不足");
        return NULL;
    }
    r->check_at = origin;
    r->check_at.file = r->file;
    r->message_at.file = r->file;
    r->check = ps_rparse_expr(r->check_text, r->check_at, err);
    if (!r->check || finish_rule(r, err) != PS_OK) {
        ps_rule_free(r);
        return NULL;
    }
    return r;
}

/* ---------------------------------------------------------------- YAML */

static void node_position(struct fy_node *n, int *line, int *col, int *content_col)
{
    *line = *col = *content_col = 0;
    struct fy_node *s = n;
    while (s && !fy_node_is_scalar(s)) {
        void *it = NULL;
        if (fy_node_is_mapping(s)) {
            struct fy_node_pair *pair = fy_node_mapping_iterate(s, &it);
            s = pair ? fy_node_pair_key(pair) : NULL;
        } else if (fy_node_is_sequence(s)) {
            s = fy_node_sequence_iterate(s, &it);
        } else {
            s = NULL;
        }
    }
    if (!s)
        return;
    struct fy_token *t = fy_node_get_scalar_token(s);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (!m)
        return;
    *line = m->line + 1;
    *col = m->column + 1;
    *content_col = *col;
    enum fy_node_style st = fy_node_get_style(s);
    /* libfyaml's mark of a quoted scalar is already past the opening quote */
    if (st == FYNS_LITERAL || st == FYNS_FOLDED) {
        *line += 1; /* the text starts on the line after the indicator */
        *content_col = 0;
    }
}

static ps_origin node_origin(struct fy_node *n, const char *file)
{
    int line, col, ccol;
    node_position(n, &line, &col, &ccol);
    ps_origin o = {file, line, ccol};
    return o;
}

static ps_status node_error(ps_error *err, struct fy_node *n, const char *file, const char *fmt,
                            const char *a)
{
    int line, col, ccol;
    node_position(n, &line, &col, &ccol);
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    ps_error_at_line(err, PS_ERR_MAPPING, file, line, col, "%s", msg);
    if (err)
        err->span = ps_yaml_node_span(n);
    return PS_ERR_MAPPING;
}

/* A copy of a scalar node's text, or NULL (and *err) when it is not a scalar. */
static char *scalar_dup(struct fy_node *n, const char *file, const char *key, ps_error *err)
{
    if (!n || !fy_node_is_scalar(n)) {
        node_error(err, n, file, "规则的 %s 应为文本", key);
        return NULL;
    }
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        s = "";
    if (len > PS_RULE_MAX_TEXT) {
        node_error(err, n, file, "规则的 %s 过长", key);
        return NULL;
    }
    char *p = malloc(len + 1);
    if (!p) {
        ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        return NULL;
    }
    memcpy(p, s, len);
    p[len] = '\0';
    if (strlen(p) != len) {
        free(p);
        node_error(err, n, file, "规则的 %s 含有 NUL 字符", key);
        return NULL;
    }
    return p;
}

static char *trim_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '[' && *c != ']')
            return false;
    return true;
}

#define MAX_BINDINGS 512

/* for: "c in final, budget, prev_final" or a mapping {var: [values…], var2: [values…]}. */
static ps_status parse_for(ps_rule *r, struct fy_node *n, const char *file, ps_error *err)
{
    rbinding *b = &r->vars;
    if (fy_node_is_scalar(n)) {
        char *text = scalar_dup(n, file, "for", err);
        if (!text)
            return err->code;
        ps_status st = PS_OK;
        char *lists[8][MAX_BINDINGS];
        size_t lens[8] = {0}, nclauses = 0, total = 1;
        char *save = NULL;
        for (char *clause = strtok_r(text, ";", &save); clause && st == PS_OK;
             clause = strtok_r(NULL, ";", &save)) {
            char *in = strstr(clause, " in ");
            if (!in) {
                st = node_error(err, n, file, "%s",
                                "for: 应写成 “变量 in 值1, 值2, …”（多个变量用 “;” 分开）");
                break;
            }
            if (nclauses == 8) {
                st = node_error(err, n, file, "%s", "for: 最多 8 个变量");
                break;
            }
            char **names = realloc(b->names, (nclauses + 1) * sizeof *names);
            char ***values = realloc(b->values, (nclauses + 1) * sizeof *values);
            if (names)
                b->names = names;
            if (values)
                b->values = values;
            if (!names || !values || !(b->names[nclauses] = trim_dup(clause, (size_t)(in - clause)))) {
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
                break;
            }
            b->values[nclauses] = NULL;
            b->nvars = ++nclauses;
            size_t c = nclauses - 1;
            if (!valid_name(b->names[c]))
                st = node_error(err, n, file, "for: 变量名 “%s” 无效", b->names[c]);
            for (char *s = in + 4; st == PS_OK && *s;) {
                char *comma = strchr(s, ',');
                size_t len = comma ? (size_t)(comma - s) : strlen(s);
                if (lens[c] == MAX_BINDINGS) {
                    st = node_error(err, n, file, "%s", "for: 的值过多");
                    break;
                }
                char *v = trim_dup(s, len);
                if (!v) {
                    st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
                    break;
                }
                lists[c][lens[c]++] = v;
                if (!*v)
                    st = node_error(err, n, file, "%s", "for: 有空的值");
                s = comma ? comma + 1 : s + len;
            }
            if (st == PS_OK && lens[c] == 0)
                st = node_error(err, n, file, "%s", "for: 没有值");
            total *= lens[c] ? lens[c] : 1;
            if (st == PS_OK && total > MAX_BINDINGS)
                st = node_error(err, n, file, "%s", "for: 展开后的组合过多");
        }
        /* the cartesian product, the last variable varying fastest */
        for (size_t c = 0; st == PS_OK && c < nclauses; c++)
            if (!(b->values[c] = calloc(total, sizeof(char *))))
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        if (st == PS_OK) {
            b->count = total;
            for (size_t i = 0; i < total && st == PS_OK; i++) {
                size_t stride = 1;
                for (size_t c = nclauses; c-- > 0;) {
                    char *v = strdup(lists[c][(i / stride) % lens[c]]);
                    if (!v)
                        st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
                    b->values[c][i] = v;
                    stride *= lens[c];
                }
            }
        }
        for (size_t c = 0; c < nclauses; c++)
            for (size_t i = 0; i < lens[c]; i++)
                free(lists[c][i]);
        b->count = total; /* ps_rule_free frees what was filled, even on error */
        free(text);
        return st;
    }
    if (!fy_node_is_mapping(n))
        return node_error(err, n, file, "%s", "for: 应为 “变量 in 值1, 值2” 或 {变量: [值…]}");
    int nvars = fy_node_mapping_item_count(n);
    if (nvars <= 0 || nvars > 8)
        return node_error(err, n, file, "%s", "for: 应有 1 到 8 个变量");
    b->names = calloc((size_t)nvars, sizeof *b->names);
    b->values = calloc((size_t)nvars, sizeof *b->values);
    if (!b->names || !b->values)
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    void *it = NULL;
    struct fy_node_pair *pair;
    size_t count = SIZE_MAX;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        char *name = scalar_dup(k, file, "for 的变量名", err);
        if (!name)
            return err->code;
        size_t vi = b->nvars++;
        b->names[vi] = name;
        if (!valid_name(name))
            return node_error(err, k, file, "for: 变量名 “%s” 无效", name);
        if (!v || !fy_node_is_sequence(v))
            return node_error(err, v ? v : k, file, "for: 变量 %s 的值应为列表", name);
        int nv = fy_node_sequence_item_count(v);
        if (nv <= 0 || nv > MAX_BINDINGS)
            return node_error(err, v, file, "for: 变量 %s 应有 1 到 512 个值", name);
        if (count != SIZE_MAX && (size_t)nv != count)
            return node_error(err, v, file, "for: 变量 %s 的值个数与前一个变量不同", name);
        count = (size_t)nv;
        if (!(b->values[vi] = calloc(count, sizeof(char *))))
            return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        b->count = count;
        void *it2 = NULL;
        struct fy_node *item;
        size_t i = 0;
        while ((item = fy_node_sequence_iterate(v, &it2)) && i < count) {
            if (!(b->values[vi][i++] = scalar_dup(item, file, "for 的值", err)))
                return err->code;
        }
    }
    b->count = count == SIZE_MAX ? 0 : count;
    return PS_OK;
}

/* The index of the scalar v's text in words (ending with NULL), or -1. */
static int word_index(struct fy_node *v, const char *const *words)
{
    const char *s = fy_node_get_scalar0(v);
    for (int i = 0; s && words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return i;
    return -1;
}

static ps_status compile_expr(ps_rule *r, struct fy_node *v, const char *file, const char *key, rnode **out,
                              ps_error *err)
{
    char *text = scalar_dup(v, file, key, err);
    if (!text)
        return err->code;
    ps_origin o = node_origin(v, file);
    rnode *e = ps_rparse_expr(text, o, err);
    switch (strcmp(key, "at") == 0 ? 'a' + 1 : key[0]) {
    case 'c':
        free(r->check_text);
        r->check_text = text;
        r->check_at = o;
        r->check_line = o.line;
        r->check_col = o.col;
        break;
    case 'w':
        free(r->when_text);
        r->when_text = text;
        r->when_at = o;
        r->when_line = o.line;
        r->when_col = o.col;
        break;
    case 'e':
        free(r->expected_text);
        r->expected_text = text;
        r->expected_at = o;
        break;
    case 'a' + 1: /* at: */
        free(r->at_text);
        r->at_text = text;
        r->at_at = o;
        break;
    default:
        free(r->actual_text);
        r->actual_text = text;
        r->actual_at = o;
        break;
    }
    if (!e)
        return err->code;
    if (strcmp(key, "at") == 0 && e->kind != N_FIELD && e->kind != N_COL) {
        ps_rnode_free(e);
        return node_error(err, v, file, "%s", "at: 应为一个字段键，或 each: 表的一列（如 blocks[].score）");
    }
    ps_rnode_free(*out);
    *out = e;
    return PS_OK;
}

/* An unknown key of a rule (what: 规则, hierarchy: …), with the known key it is closest to. */
static ps_status unknown_key_error(ps_error *err, struct fy_node *k, const char *file, const char *what,
                                   const char *key, const char *const *known)
{
    const char *best = NULL;
    size_t limit = strlen(key) >= 5 ? 2 : 1, bd = limit + 1;
    for (size_t i = 0; known[i]; i++) {
        size_t d = ps_rule_name_distance(key, known[i], limit);
        if (d < bd) {
            bd = d;
            best = known[i];
        }
    }
    char msg[300];
    int o = snprintf(msg, sizeof msg, "未知的%s键 “%.80s”", what, key);
    if (best && o > 0 && (size_t)o < sizeof msg)
        snprintf(msg + o, sizeof msg - (size_t)o, "。您是不是要写 “%s”？", best);
    return node_error(err, k, file, "%s", msg);
}

/* band: a non-negative amount of 万元. */
static ps_status parse_band(struct fy_node *v, const char *file, double *out, ps_error *err)
{
    const char *s = v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
    char *end = NULL;
    double d = s ? strtod(s, &end) : -1;
    if (!s || end == s || *end != '\0' || !(d >= 0) || d >= 1e9)
        return node_error(err, v, file, "%s",
                          "band 应为非负数（尾数误差的上限，万元，如 0.01；0 表示不允许）");
    *out = d;
    return PS_OK;
}

/* blank: report | skip | zero. */
static ps_status parse_blank(struct fy_node *v, const char *file, rblank *out, ps_error *err)
{
    int i = word_index(v, (const char *const[]){"report", "skip", "zero", NULL});
    if (i < 0)
        return node_error(err, v, file, "%s", "blank 应为 report、skip 或 zero");
    *out = (rblank)i;
    return PS_OK;
}

static void set_blank(ps_rule *r, rblank b)
{
    r->blank_report = b == BLANK_REPORT;
    r->blank_zero = b == BLANK_ZERO;
}

ps_status ps_rule_defaults_from_node(struct fy_node *n, const char *file, ps_rule_defaults *out,
                                     ps_error *err)
{
    memset(out, 0, sizeof *out);
    if (!n)
        return PS_OK;
    if (!fy_node_is_mapping(n))
        return node_error(err, n, file, "%s", "defaults: 应为键值映射（band、blank）");
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        const char *key = k ? fy_node_get_scalar0(k) : NULL;
        ps_status st;
        if (!key)
            return node_error(err, k ? k : n, file, "%s", "defaults: 的键应为文本");
        if (!strcmp(key, "band")) {
            st = parse_band(v, file, &out->band, err);
            out->has_band = true;
        } else if (!strcmp(key, "blank")) {
            st = parse_blank(v, file, &out->blank, err);
            out->has_blank = true;
        } else {
            st = unknown_key_error(err, k, file, " defaults: ", key,
                                   (const char *const[]){"band", "blank", NULL});
        }
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

/* A name of a table or column in hierarchy: (a scalar, letters, digits, _ and .). */
static char *hier_name(struct fy_node *v, const char *file, const char *key, ps_error *err)
{
    const char *s = v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
    if (!s || !*s || strlen(s) > 200 || !valid_name(s) || strchr(s, '[')) {
        node_error(err, v, file, "hierarchy: 的 %s 应为一个名称（表名或列名）", key);
        return NULL;
    }
    char *p = strdup(s);
    if (!p)
        ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    return p;
}

/* hierarchy: {table: T, code: C, levels: [3, 5, 7], columns: [a, b, …]} */
static ps_status parse_hierarchy(ps_rule *r, struct fy_node *n, const char *file, ps_error *err)
{
    static const char *const keys[] = {"table", "code", "levels", "columns", NULL};
    if (!n || !fy_node_is_mapping(n))
        return node_error(err, n, file, "%s", "hierarchy: 应为键值映射（table、code、levels、columns）");
    if (r->hier)
        return node_error(err, n, file, "%s", "规则有两个 hierarchy:");
    rhier *h = r->hier = calloc(1, sizeof *h);
    if (!h)
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    struct fy_node *seen[4] = {0};
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        const char *key = k ? fy_node_get_scalar0(k) : NULL;
        int i = key ? word_index(k, keys) : -1;
        if (i < 0)
            return key ? unknown_key_error(err, k, file, " hierarchy: ", key, keys)
                       : node_error(err, k ? k : n, file, "%s", "hierarchy: 的键应为文本");
        if (!v)
            return node_error(err, k, file, "hierarchy: 的 %s 没有值", key);
        seen[i] = v;
    }
    for (size_t i = 0; i < 4; i++)
        if (!seen[i])
            return node_error(err, n, file, "hierarchy: 缺少 %s", keys[i]);
    if (!(h->table = hier_name(seen[0], file, "table", err)) ||
        !(h->code = hier_name(seen[1], file, "code", err)))
        return err->code;
    h->table_at = node_origin(seen[0], file);
    h->code_at = node_origin(seen[1], file);
    /* levels: code lengths, strictly increasing */
    struct fy_node *lv = seen[2];
    if (!fy_node_is_sequence(lv) || fy_node_sequence_item_count(lv) < 1 ||
        fy_node_sequence_item_count(lv) > RULE_MAX_LEVELS)
        return node_error(err, lv, file, "hierarchy: 的 levels 应为 1 到 8 个编码长度的列表，如 [3, 5, 7]%s",
                          "");
    it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(lv, &it))) {
        const char *t = fy_node_is_scalar(item) ? fy_node_get_scalar0(item) : NULL;
        char *end = NULL;
        long d = t ? strtol(t, &end, 10) : 0;
        if (!t || end == t || *end || d < 1 || d > 20)
            return node_error(err, item, file, "%s", "levels 的每一项应为编码长度（1 到 20 位），如 3、5、7");
        if (h->nlevels > 0 && (unsigned)d <= h->levels[h->nlevels - 1])
            return node_error(err, item, file, "%s",
                              "levels 应逐级递增（如 [3, 5, 7]：类 3 位、款 5 位、项 7 位）");
        h->levels[h->nlevels++] = (unsigned)d;
    }
    /* columns: the money columns, each once, not the code column */
    struct fy_node *cv = seen[3];
    size_t nc = fy_node_is_sequence(cv) ? (size_t)fy_node_sequence_item_count(cv) : 0;
    if (nc == 0 || nc > 256)
        return node_error(err, cv, file, "%s",
                          "hierarchy: 的 columns 应为要核对的金额列的列表，如 [total, basic]");
    h->cols = calloc(nc, sizeof *h->cols);
    h->labels = calloc(nc, sizeof *h->labels);
    h->cols_at = calloc(nc, sizeof *h->cols_at);
    if (!h->cols || !h->labels || !h->cols_at)
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    it = NULL;
    while ((item = fy_node_sequence_iterate(cv, &it))) {
        char *c = hier_name(item, file, "columns", err);
        if (!c)
            return err->code;
        h->cols[h->ncols] = c;
        h->cols_at[h->ncols++] = node_origin(item, file);
        if (!strcmp(c, h->code))
            return node_error(err, item, file, "columns 中的 “%s” 是编码列（code:），不是金额列", c);
        for (size_t j = 0; j + 1 < h->ncols; j++)
            if (!strcmp(h->cols[j], c))
                return node_error(err, item, file, "columns 中的 “%s” 写了两次", c);
    }
    return PS_OK;
}

/* Does the check compare numbers with =, <= or >= anywhere (what a band applies to)? */
static bool has_band_comparison(const rnode *n)
{
    if (!n)
        return false;
    if (n->kind == N_CMP && (n->op == T_EQ || n->op == T_LE || n->op == T_GE))
        return true;
    for (size_t i = 0; i < n->nargs; i++)
        if (has_band_comparison(n->args[i]))
            return true;
    return false;
}

static const char *const rule_keys[] = {"id",
                                        "severity",
                                        "check",
                                        "when",
                                        "expected",
                                        "actual",
                                        "at",
                                        "message",
                                        "blank_message",
                                        "formula_message",
                                        "for",
                                        "each",
                                        "tolerance",
                                        "tolerance_per_term",
                                        "computed",
                                        "blank",
                                        "band",
                                        "hierarchy",
                                        NULL};

/* The keys of a check a hierarchy rule has no use for. */
static const char *const not_hierarchy_keys[] = {"for",
                                                 "each",
                                                 "expected",
                                                 "actual",
                                                 "at",
                                                 "blank_message",
                                                 "formula_message",
                                                 "tolerance",
                                                 "tolerance_per_term",
                                                 "computed",
                                                 NULL};

static ps_rule *rule_from_node(struct fy_node *node, const ps_rule_defaults *defaults, const char *file,
                               ps_error *err)
{
    if (!node || !fy_node_is_mapping(node)) {
        node_error(err, node, file, "%s", "每条规则应为一个映射（id、check、message …）");
        return NULL;
    }
    ps_rule *r = calloc(1, sizeof *r);
    if (!r) {
        ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        return NULL;
    }
    r->severity = PS_SEV_ERROR;
    r->blank_report = true;
    if (file && !(r->file = strdup(file))) {
        free(r);
        ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        return NULL;
    }
    file = r->file; /* every origin points at the rule's own copy */
    int content_col;
    node_position(node, &r->line, &r->col, &content_col);
    ps_status st = PS_OK;
    struct fy_node *check_node = NULL, *per_term_node = NULL, *band_node = NULL, *hier_node = NULL;
    void *it = NULL;
    struct fy_node_pair *pair;
    /* the order of keys does not matter, but each: must be known before check is validated */
    while (st == PS_OK && (pair = fy_node_mapping_iterate(node, &it))) {
        struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
        const char *key = k ? fy_node_get_scalar0(k) : NULL;
        if (!key) {
            st = node_error(err, k ? k : node, file, "%s", "规则的键应为文本");
            break;
        }
        if (!v) {
            st = node_error(err, k, file, "规则的 %s 没有值", key);
            break;
        }
        if (strcmp(key, "id") == 0) {
            free(r->id);
            r->id_at = node_origin(v, file);
            if (!(r->id = scalar_dup(v, file, key, err)))
                st = err->code;
        } else if (strcmp(key, "severity") == 0) {
            static const ps_severity severities[] = {PS_SEV_ERROR, PS_SEV_WARNING, PS_SEV_INFO};
            int i = word_index(v, (const char *const[]){"error", "warning", "info", NULL});
            if (i < 0)
                st = node_error(err, v, file, "%s", "severity 应为 error、warning 或 info");
            else
                r->severity = severities[i];
        } else if (strcmp(key, "check") == 0) {
            check_node = v;
        } else if (strcmp(key, "when") == 0) {
            st = compile_expr(r, v, file, key, &r->when, err);
        } else if (strcmp(key, "expected") == 0) {
            st = compile_expr(r, v, file, key, &r->expected, err);
        } else if (strcmp(key, "actual") == 0) {
            st = compile_expr(r, v, file, key, &r->actual, err);
        } else if (strcmp(key, "at") == 0) {
            st = compile_expr(r, v, file, key, &r->at, err);
        } else if (strcmp(key, "message") == 0 || strcmp(key, "blank_message") == 0 ||
                   strcmp(key, "formula_message") == 0) {
            char *m = scalar_dup(v, file, key, err);
            char **dst = key[0] == 'm'   ? &r->message
                         : key[0] == 'b' ? &r->blank_message
                                         : &r->formula_message;
            ps_origin *at = key[0] == 'm'   ? &r->message_at
                            : key[0] == 'b' ? &r->blank_message_at
                                            : &r->formula_message_at;
            if (!m) {
                st = err->code;
            } else {
                free(*dst);
                *dst = m;
                *at = node_origin(v, file);
            }
        } else if (strcmp(key, "for") == 0) {
            r->for_at = node_origin(v, file);
            if (r->vars.nvars)
                st = node_error(err, k, file, "%s", "规则有两个 for:");
            else
                st = parse_for(r, v, file, err);
        } else if (strcmp(key, "each") == 0) {
            char *e = scalar_dup(v, file, key, err);
            if (!e) {
                st = err->code;
                break;
            }
            free(r->each_text);
            free(r->each_table);
            free(r->each_group);
            r->each_table = r->each_group = NULL;
            r->each_at = node_origin(v, file);
            if (!(r->each_text = strdup(e))) {
                free(e);
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
                break;
            }
            char *by = strstr(e, " by ");
            if (by) {
                r->each_group = trim_dup(by + 4, strlen(by + 4));
                *by = '\0';
            }
            size_t tl = strlen(e);
            if (tl >= 2 && strcmp(e + tl - 2, "[]") == 0)
                e[tl - 2] = '\0';
            r->each_table = trim_dup(e, strlen(e));
            free(e);
            if (!r->each_table || (by && !r->each_group))
                st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            else if (!valid_name(r->each_table) || (r->each_group && !valid_name(r->each_group)))
                st = node_error(err, v, file, "%s", "each: 应写成 “表名” 或 “表名 by 列名”");
        } else if (strcmp(key, "tolerance") == 0) {
            const char *s = fy_node_get_scalar0(v);
            char *end = NULL;
            if (s && strcmp(s, "money") == 0)
                r->tol = TOL_MONEY;
            else if (s && strcmp(s, "rate") == 0)
                r->tol = TOL_RATE;
            else if (s && strcmp(s, "exact") == 0) {
                r->tol = TOL_FIXED;
                r->tol_value = 0;
            } else if (s && (r->tol_value = strtod(s, &end), end != s && *end == '\0') && r->tol_value >= 0 &&
                       r->tol_value < 1e12) {
                r->tol = TOL_FIXED;
            } else {
                st = node_error(err, v, file, "%s", "tolerance 应为非负数、money、rate 或 exact");
            }
            r->tol_set = true;
        } else if (strcmp(key, "tolerance_per_term") == 0) {
            const char *s = fy_node_get_scalar0(v);
            char *end = NULL;
            double d = s ? strtod(s, &end) : -1;
            if (!s || end == s || *end != '\0' || !(d > 0) || d >= 1e12)
                st = node_error(err, v, file, "%s",
                                "tolerance_per_term 应为正数（每个求和项允许的误差，如 0.01）");
            else
                r->tol_per_term = d;
            per_term_node = v;
            r->tol_set = true;
        } else if (strcmp(key, "computed") == 0) {
            int i = word_index(v, (const char *const[]){"false", "true", NULL});
            if (i < 0)
                st = node_error(err, v, file, "%s", "computed 应为 true 或 false");
            else
                r->computed = i;
        } else if (strcmp(key, "blank") == 0) {
            rblank b = BLANK_REPORT;
            if ((st = parse_blank(v, file, &b, err)) == PS_OK) {
                set_blank(r, b);
                r->blank_set = true;
            }
        } else if (strcmp(key, "band") == 0) {
            band_node = v;
            if ((st = parse_band(v, file, &r->band, err)) == PS_OK)
                r->has_band = r->band_set = true;
        } else if (strcmp(key, "hierarchy") == 0) {
            hier_node = v;
            ps_origin o = node_origin(k, file); /* where lint points for the rule's "check" */
            r->check_line = o.line;
            r->check_col = o.col;
            st = parse_hierarchy(r, v, file, err);
        } else {
            st = unknown_key_error(err, k, file, "规则", key, rule_keys);
        }
    }
    /* what the mapping's defaults: give a rule that does not say */
    if (defaults && defaults->has_blank && !r->blank_set)
        set_blank(r, defaults->blank);
    if (defaults && defaults->has_band && !r->band_set && !r->tol_set) {
        r->has_band = true;
        r->band = defaults->band;
    }
    if (st == PS_OK && band_node && r->tol_set)
        st = node_error(
            err, band_node, file, "%s",
            "band: 取代 tolerance 的 money 误差（差额为 0 通过，不超过 band 为尾数误差警告，超过为错误），"
            "不能与 tolerance 或 tolerance_per_term 同时写");
    if (st == PS_OK && r->hier) {
        if (check_node) {
            st = node_error(err, check_node, file, "%s",
                            "hierarchy 规则不写 check：每个上级 = Σ 其下级由 hierarchy: 给出");
        } else {
            it = NULL;
            while (st == PS_OK && (pair = fy_node_mapping_iterate(node, &it))) {
                struct fy_node *k = fy_node_pair_key(pair);
                if (word_index(k, not_hierarchy_keys) >= 0)
                    st = node_error(err, k, file, "hierarchy 规则不能有 %s", fy_node_get_scalar0(k));
            }
        }
        if (!r->has_band) { /* a sum of codes always has its 尾数误差 band */
            r->has_band = true;
            r->band = 0.01;
        }
        if (st == PS_OK && !r->message &&
            !(r->message =
                  strdup("{column}：{relation}，应为 {expected:money}（下级合计），表中为 {actual:money}")))
            st = ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
        if (st == PS_OK && !r->message_at.line)
            r->message_at = node_origin(hier_node, file);
    }
    if (st == PS_OK && !r->id)
        st = node_error(err, node, file, "%s", "规则缺少 id");
    if (st == PS_OK && !check_node && !r->hier)
        st = node_error(err, node, file, "规则 %s 缺少 check（或 hierarchy:）", r->id);
    if (st == PS_OK && !r->message)
        st = node_error(err, node, file, "规则 %s 缺少 message", r->id);
    if (st == PS_OK && per_term_node) { /* a per-term tolerance is the money tolerance's */
        if (r->tol == TOL_AUTO)
            r->tol = TOL_MONEY;
        else if (r->tol != TOL_MONEY)
            st = node_error(err, per_term_node, file, "%s", "tolerance_per_term 只用于 tolerance: money");
    }
    if (st == PS_OK && check_node)
        st = compile_expr(r, check_node, file, "check", &r->check, err);
    if (st == PS_OK && band_node && !r->hier && !has_band_comparison(r->check))
        st = node_error(err, band_node, file, "%s", "band: 只用于 =、<=、>= 的比较，这条规则的 check 中没有");
    if (st == PS_OK)
        st = finish_rule(r, err);
    if (st != PS_OK) {
        ps_rule_free(r);
        return NULL;
    }
    return r;
}

ps_rule *ps_rule_from_node(struct fy_node *node, const char *file, ps_error *err)
{
    return rule_from_node(node, NULL, file, err);
}

/* ---------------------------------------------------------------- rule sets */

void ps_ruleset_free(ps_ruleset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        ps_rule_free(set->rules[i]);
    free(set->rules);
    free(set);
}

size_t ps_ruleset_count(const ps_ruleset *set)
{
    return set ? set->n : 0;
}
const ps_rule *ps_ruleset_at(const ps_ruleset *set, size_t i)
{
    return set && i < set->n ? set->rules[i] : NULL;
}

const ps_rule *ps_ruleset_find(const ps_ruleset *set, const char *id)
{
    for (size_t i = 0; set && i < set->n; i++)
        if (strcmp(set->rules[i]->id, id) == 0)
            return set->rules[i];
    return NULL;
}

/* One id may name several entries (zpb.score_le_weight checks the money row, the blocks and
 * the rows): they are one rule of checks.md written in parts. */
ps_status ps_ruleset_from_node(struct fy_node *seq, const char *file, ps_ruleset **out, ps_error *err)
{
    return ps_ruleset_from_node_defaults(seq, NULL, file, out, err);
}

ps_status ps_ruleset_from_node_defaults(struct fy_node *seq, const ps_rule_defaults *defaults,
                                        const char *file, ps_ruleset **out, ps_error *err)
{
    ps_ruleset *set = calloc(1, sizeof *set);
    if (!set)
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    if (seq && !fy_node_is_sequence(seq)) {
        ps_status st = node_error(err, seq, file, "%s", "rules: 应为规则列表（每项以 “- id:” 开始）");
        ps_ruleset_free(set);
        return st;
    }
    void *it = NULL;
    struct fy_node *item;
    while (seq && (item = fy_node_sequence_iterate(seq, &it))) {
        ps_rule *r = rule_from_node(item, defaults, file, err);
        if (!r) {
            ps_ruleset_free(set);
            return err->code;
        }
        if (set->n == set->cap) {
            size_t cap = set->cap ? set->cap * 2 : 16;
            ps_rule **a = realloc(set->rules, cap * sizeof *a);
            if (!a) {
                ps_rule_free(r);
                ps_ruleset_free(set);
                return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
            }
            set->rules = a;
            set->cap = cap;
        }
        set->rules[set->n++] = r;
    }
    *out = set;
    return PS_OK;
}

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

ps_status ps_ruleset_from_string(const char *yaml, size_t len, const char *file, ps_ruleset **out,
                                 ps_error *err)
{
    int bad_line, bad_col;
    if (ps_utf8_find_invalid(yaml, len, &bad_line, &bad_col))
        return ps_error_at_line(err, PS_ERR_MAPPING, file, bad_line, bad_col, "%s", "不是 UTF-8 编码的文本");
    /* errors collected, never displayed: libfyaml 0.7.12 crashes displaying the source line
     * of some (fy_diag_error_atom_display, found by fuzz_rules) */
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_discard;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (!diag)
        return ps_error_set(err, PS_ERR_NOMEM, file, "内存不足");
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = diag};
    struct fy_document *d = fy_document_build_from_string(&cfg, yaml, len);
    /* anchors, aliases and merge keys resolved as in mapping files (ps_yaml_resolve) */
    int line = 0, col = 0;
    int resolved = d ? ps_yaml_resolve(d, &line, &col) : -1;
    if (resolved != 0) {
        char msg[200] = PS_YAML_TOO_BIG_MESSAGE;
        if (resolved < 0) {
            /* the first error libfyaml collected says where and why */
            void *eit = NULL;
            struct fy_diag_error *e;
            msg[0] = '\0';
            while ((e = fy_diag_errors_iterate(diag, &eit)))
                if (e->type >= FYET_ERROR) {
                    line = e->line;
                    col = e->column;
                    snprintf(msg, sizeof msg, "%s", e->msg ? e->msg : "");
                    break;
                }
        }
        fy_document_destroy(d);
        fy_diag_destroy(diag);
        if (line > 0 && col > 0)
            return ps_error_at_line(err, PS_ERR_MAPPING, file, line, col, "不是有效的 YAML：%s", msg);
        return ps_error_set(err, PS_ERR_MAPPING, file, "%s", "不是有效的 YAML 文本");
    }
    fy_diag_destroy(diag); /* the document keeps its own reference */
    struct fy_node *root = fy_document_root(d);
    ps_rule_defaults defaults = {0};
    ps_status st = PS_OK;
    if (root && fy_node_is_mapping(root)) {
        st = ps_rule_defaults_from_node(fy_node_mapping_lookup_by_string(root, "defaults", FY_NT), file,
                                        &defaults, err);
        root = fy_node_mapping_lookup_by_string(root, "rules", FY_NT);
    }
    if (st == PS_OK)
        st = ps_ruleset_from_node_defaults(root, &defaults, file, out, err);
    fy_document_destroy(d);
    return st;
}
