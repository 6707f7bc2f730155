/* lint.c - the rule set's self-check (see lint.h, docs/lint.md). Every rule is expanded into
 * its `for:` instances; each instance is looked at alone (a check that reads no field, a
 * comparison of an expression with itself, a `when:` that is never true), instances are
 * compared after normalisation (duplicates), and the checks that are linear — fields, numbers,
 * + − and × ÷ by constants, compared by = <= >= < > — become (in)equalities over named fields:
 * equalities are reduced by Gaussian elimination in exact rational arithmetic (an implied
 * equality is redundant, 0 = k a contradiction, a row left with one field fixes it), and
 * inequalities over the same combination of fields are intersected as intervals (an empty
 * interval is a contradiction, a looser bound is redundant). Each finding names the rules
 * that conflict. With files, every rule runs on their documents with a tally (coverage). */
#include "perfsheet/lint.h"

#include "perfsheet/document.h"
#include "perfsheet/mapping.h"
#include "perfsheet/rules.h"
#include "rules_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the report */

struct ps_lint_report {
    ps_lint_finding *items;
    size_t n, cap;
    char **pool; /* every string of the findings */
    size_t npool, pool_cap;
    bool nomem;
};

void ps_lint_report_free(ps_lint_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->npool; i++)
        free(rep->pool[i]);
    free(rep->pool);
    free(rep->items);
    free(rep);
}

size_t ps_lint_count(const ps_lint_report *rep)
{
    return rep ? rep->n : 0;
}

const ps_lint_finding *ps_lint_at(const ps_lint_report *rep, size_t i)
{
    return rep && i < rep->n ? &rep->items[i] : NULL;
}

const char *ps_lint_kind_name(ps_lint_kind kind)
{
    static const char *const names[] = {
        [PS_LINT_LOAD] = "lint.load",
        [PS_LINT_INPUT] = "lint.input",
        [PS_LINT_CONSTANT] = "lint.constant",
        [PS_LINT_SELF_COMPARE] = "lint.self_compare",
        [PS_LINT_NEVER_RUNS] = "lint.never_runs",
        [PS_LINT_DUPLICATE] = "lint.duplicate",
        [PS_LINT_REDUNDANT] = "lint.redundant",
        [PS_LINT_IMPLIED_VALUE] = "lint.implied_value",
        [PS_LINT_CONTRADICTION] = "lint.contradiction",
        [PS_LINT_COVERAGE] = "lint.coverage",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "lint.unknown";
}

/* A copy of s kept by the report (NULL stays NULL). */
static const char *keep(ps_lint_report *rep, const char *s)
{
    if (!s)
        return NULL;
    if (rep->npool == rep->pool_cap) {
        size_t cap = rep->pool_cap ? rep->pool_cap * 2 : 64;
        char **p = realloc(rep->pool, cap * sizeof *p);
        if (!p) {
            rep->nomem = true;
            return NULL;
        }
        rep->pool = p;
        rep->pool_cap = cap;
    }
    char *c = strdup(s);
    if (!c) {
        rep->nomem = true;
        return NULL;
    }
    rep->pool[rep->npool++] = c;
    return c;
}

static ps_lint_finding *add(ps_lint_report *rep, ps_lint_kind kind, ps_severity sev, const char *file,
                            int line, int col, const char *rule, const char *instance, const char *fmt, ...)
    __attribute__((format(printf, 9, 10)));

static ps_lint_finding *add(ps_lint_report *rep, ps_lint_kind kind, ps_severity sev, const char *file,
                            int line, int col, const char *rule, const char *instance, const char *fmt, ...)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? rep->cap * 2 : 32;
        ps_lint_finding *a = realloc(rep->items, cap * sizeof *a);
        if (!a) {
            rep->nomem = true;
            return NULL;
        }
        rep->items = a;
        rep->cap = cap;
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps_lint_finding *f = &rep->items[rep->n++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->severity = sev;
    f->file = keep(rep, file ? file : "");
    f->line = line;
    f->col = col;
    f->rule = keep(rep, rule);
    f->instance = keep(rep, instance);
    f->message = keep(rep, msg);
    return f;
}

static void add_error(ps_lint_report *rep, ps_lint_kind kind, const ps_error *err)
{
    ps_lint_finding *f = add(rep, kind, PS_SEV_ERROR, err->file, err->line, err->col, NULL, NULL, "%s%s%s%s",
                             err->message, err->sheet[0] ? "（" : "", err->sheet, err->sheet[0] ? "）" : "");
    if (f)
        f->span = err->span;
}

/* ---------------------------------------------------------------- text buffers */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool nomem;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t len)
{
    if (b->nomem)
        return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_puts(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_puts(b, tmp);
}

/* The buffer's text, handed over (an empty string for an empty buffer); NULL on out-of-memory. */
static char *sb_take(sbuf *b)
{
    if (b->nomem) {
        free(b->p);
        return NULL;
    }
    char *p = b->p ? b->p : strdup("");
    memset(b, 0, sizeof *b);
    return p;
}

/* ---------------------------------------------------------------- instances */

/* One `for:` instance of one rule. */
typedef struct inst {
    const ps_rule *r;
    const char *mapping_id; /* borrowed from the mapping set */
    const char *file;
    size_t binding;
    char *label; /* "c=final" (owned), NULL without for: */
    char *canon; /* the normalised check, when: and each: (owned), for duplicates */
    char *text;  /* the check as written, variables substituted (owned), for messages */
    bool duplicate, conditional;
    bool raw;  /* the rule as written: {var} left as it is */
    bool said; /* its check is constant or compares a term with itself: nothing more to say */
} inst;

typedef struct lctx {
    ps_lint_report *rep;
    inst *insts;
    size_t ninsts;
    const char *here; /* the mapping file of the finding being written: other files are named */
    bool nomem;
} lctx;

/* Substitutes the instance's for: variables in s. */
static void subst(sbuf *b, const char *s, const inst *in)
{
    const rbinding *v = &in->r->vars;
    while (*s) {
        if (*s == '{' && v->nvars && v->count && !in->raw) {
            const char *close = strchr(s, '}');
            size_t n = close ? (size_t)(close - s - 1) : 0;
            const char *val = NULL;
            for (size_t k = 0; close && k < v->nvars; k++)
                if (strlen(v->names[k]) == n && strncmp(v->names[k], s + 1, n) == 0)
                    val = v->values[k][in->binding];
            if (val) {
                sb_puts(b, val);
                s = close + 1;
                continue;
            }
        }
        sb_add(b, s, 1);
        s++;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void canon(sbuf *b, const rnode *n, const inst *in);

/* The canonical text of n alone (owned). */
static char *canon_dup(const rnode *n, const inst *in)
{
    sbuf b = {0};
    canon(&b, n, in);
    return sb_take(&b);
}

/* Operands of a chain of one associative operator, each as canonical text; sign is '+' or '-'
 * for sums (a - b is +a, -b). */
typedef struct parts {
    char **s;
    size_t n, cap;
    bool nomem;
} parts;

static void parts_add(parts *p, char *s)
{
    if (!s) {
        p->nomem = true;
        return;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        char **a = realloc(p->s, cap * sizeof *a);
        if (!a) {
            free(s);
            p->nomem = true;
            return;
        }
        p->s = a;
        p->cap = cap;
    }
    p->s[p->n++] = s;
}

static void flatten_sum(parts *p, const rnode *n, bool neg, const inst *in)
{
    if (n->kind == N_ARITH && (n->op == '+' || n->op == '-')) {
        flatten_sum(p, n->args[0], neg, in);
        flatten_sum(p, n->args[1], n->op == '-' ? !neg : neg, in);
        return;
    }
    if (n->kind == N_NEG) {
        flatten_sum(p, n->args[0], !neg, in);
        return;
    }
    sbuf b = {0};
    sb_puts(&b, neg ? "-" : "+");
    canon(&b, n, in);
    parts_add(p, sb_take(&b));
}

static void flatten_same(parts *p, const rnode *n, rnode_kind kind, int op, const inst *in)
{
    if (n->kind == kind && n->op == op) {
        for (size_t i = 0; i < n->nargs; i++)
            flatten_same(p, n->args[i], kind, op, in);
        return;
    }
    parts_add(p, canon_dup(n, in));
}

static void emit_parts(sbuf *b, parts *p, const char *head)
{
    if (p->nomem)
        b->nomem = true;
    if (p->n)
        qsort(p->s, p->n, sizeof *p->s, cmp_str);
    sb_puts(b, head);
    sb_puts(b, "{");
    for (size_t i = 0; i < p->n; i++) {
        if (i)
            sb_puts(b, ",");
        sb_puts(b, p->s[i]);
        free(p->s[i]);
    }
    sb_puts(b, "}");
    free(p->s);
}

static const char *cmp_word(int op)
{
    switch (op) {
    case T_EQ: return "=";
    case T_NE: return "!=";
    case T_LT: return "<";
    case T_LE: return "<=";
    case T_GT: return ">";
    case T_GE: return ">=";
    default: return "?";
    }
}

/* Canonical text: + and × chains, AND and OR sorted, the sides of = and != sorted, > and >=
 * turned into < and <=; spacing and the spelling of operators are gone with the parse. */
static void canon(sbuf *b, const rnode *n, const inst *in)
{
    if (!n) {
        sb_puts(b, "_");
        return;
    }
    switch (n->kind) {
    case N_NUM: sb_printf(b, "%.17g", n->num); break;
    case N_STR:
        sb_puts(b, "\"");
        sb_puts(b, n->str ? n->str : "");
        sb_puts(b, "\"");
        break;
    case N_FIELD:
        if (n->ns) {
            sb_puts(b, n->ns);
            sb_puts(b, ":");
        }
        subst(b, n->str, in);
        break;
    case N_COL:
        subst(b, n->table, in);
        sb_puts(b, "[]");
        if (n->str) {
            sb_puts(b, ".");
            subst(b, n->str, in);
        }
        break;
    case N_NEG:
    case N_ARITH:
        if (n->kind == N_NEG || n->op == '+' || n->op == '-') {
            parts p = {0};
            flatten_sum(&p, n, false, in);
            emit_parts(b, &p, "SUM");
        } else if (n->op == '*') {
            parts p = {0};
            flatten_same(&p, n, N_ARITH, '*', in);
            emit_parts(b, &p, "MUL");
        } else {
            sb_puts(b, "DIV(");
            canon(b, n->args[0], in);
            sb_puts(b, ",");
            canon(b, n->args[1], in);
            sb_puts(b, ")");
        }
        break;
    case N_NOT:
        sb_puts(b, "NOT(");
        canon(b, n->args[0], in);
        sb_puts(b, ")");
        break;
    case N_AND:
    case N_OR: {
        parts p = {0};
        flatten_same(&p, n, n->kind, n->op, in);
        emit_parts(b, &p, n->kind == N_AND ? "AND" : "OR");
        break;
    }
    case N_CMP: {
        const rnode *l = n->args[0], *r = n->args[1];
        int op = n->op;
        if (op == T_GT || op == T_GE) {
            const rnode *t = l;
            l = r;
            r = t;
            op = op == T_GT ? T_LT : T_LE;
        }
        char *ls = canon_dup(l, in), *rs = canon_dup(r, in);
        if (!ls || !rs) {
            b->nomem = true;
        } else {
            if ((op == T_EQ || op == T_NE) && strcmp(ls, rs) > 0) {
                char *t = ls;
                ls = rs;
                rs = t;
            }
            sb_puts(b, "CMP(");
            sb_puts(b, ls);
            sb_puts(b, cmp_word(op));
            sb_puts(b, rs);
            sb_puts(b, ")");
        }
        free(ls);
        free(rs);
        break;
    }
    case N_CALL:
        sb_printf(b, "F%d(", (int)n->fn);
        for (size_t i = 0; i < n->nargs; i++) {
            if (i)
                sb_puts(b, ",");
            canon(b, n->args[i], in);
        }
        if (n->where) {
            sb_puts(b, " WHERE ");
            canon(b, n->where, in);
        }
        sb_puts(b, ")");
        break;
    }
}

/* Whether n reads a field or a table column anywhere. */
static bool reads_field(const rnode *n)
{
    if (!n)
        return false;
    if (n->kind == N_FIELD || n->kind == N_COL)
        return true;
    for (size_t i = 0; i < n->nargs; i++)
        if (reads_field(n->args[i]))
            return true;
    return reads_field(n->where);
}

static rnode *first_comparison(rnode *n)
{
    if (!n)
        return NULL;
    if (n->kind == N_CMP)
        return n;
    if (n->kind == N_AND || n->kind == N_OR || n->kind == N_NOT)
        for (size_t i = 0; i < n->nargs; i++) {
            rnode *c = first_comparison(n->args[i]);
            if (c)
                return c;
        }
    return NULL;
}

/* line:col of byte offset pos of the check text, as the parser reports syntax errors. */
static void check_position(const ps_rule *r, size_t pos, int *line, int *col)
{
    int l = 1, c = 1;
    if (r->check_text)
        ps_rlex_position(r->check_text, pos, &l, &c);
    if (r->check_line > 0) {
        c = l == 1 && r->check_col > 0 ? r->check_col + c - 1 : c;
        l = r->check_line + l - 1;
    }
    *line = l;
    *col = c;
}

static ps_lint_finding *add_at_check(lctx *x, const inst *in, ps_lint_kind kind, ps_severity sev,
                                     const char *msg)
{
    return add(x->rep, kind, sev, in->file, in->r->check_line, in->r->check_col > 0 ? in->r->check_col : 1,
               in->r->id, in->label, "%s", msg);
}

/* The same about the rule as a whole (every instance alike). */
static ps_lint_finding *add_at_rule_check(lctx *x, const inst *in, ps_lint_kind kind, const char *msg)
{
    return add(x->rep, kind, PS_SEV_WARNING, in->file, in->r->check_line,
               in->r->check_col > 0 ? in->r->check_col : 1, in->r->id, NULL, "%s", msg);
}

/* ---------------------------------------------------------------- checks of one instance */

/* What a rule (or a copy of it with another check) comes to on a document with no value. */
static ps_rule_tally run_on_nothing(const ps_rule *r, const char *mapping_id, bool *nomem)
{
    ps_rule_tally t[1] = {{0}};
    ps_rule tmp = *r;
    tmp.vars.nvars = 0; /* the check reads no field: every instance is the same */
    tmp.vars.count = 0;
    tmp.each_table = tmp.each_group = NULL;
    tmp.nns = 0;
    ps_document *doc = ps_document_new(mapping_id, "lint", "lint", "lint");
    ps_error err;
    if (!doc || ps_rule_eval_tally(&tmp, doc, t, &err) == PS_ERR_NOMEM)
        *nomem = true;
    ps_document_free(doc);
    return t[0];
}

static void constant_check(lctx *x, const inst *in)
{
    const ps_rule *r = in->r;
    if (in->binding > 0)
        return; /* one report for all the instances */
    if (!reads_field(r->check)) {
        ps_rule tmp = *r;
        tmp.when = NULL;
        ps_rule_tally t = run_on_nothing(&tmp, in->mapping_id, &x->nomem);
        const char *what = t.failed   ? "总是不通过：每份文档都会报错"
                           : t.passed ? "总是通过：它什么也没检查"
                                      : "结果总为空：它从不报错";
        char msg[512];
        snprintf(msg, sizeof msg, "检查「%s」不读取任何字段，%s", r->check_text, what);
        add_at_rule_check(x, in, PS_LINT_CONSTANT, msg);
    }
    if (r->when && !reads_field(r->when)) {
        ps_rule tmp = *r;
        tmp.check = r->when;
        tmp.primary = first_comparison(r->when);
        tmp.when = tmp.expected = tmp.actual = NULL;
        tmp.blank_report = false;
        tmp.computed = false;
        ps_rule_tally t = run_on_nothing(&tmp, in->mapping_id, &x->nomem);
        if (!t.passed)
            add(x->rep, PS_LINT_NEVER_RUNS, PS_SEV_WARNING, in->file, r->when_line,
                r->when_col > 0 ? r->when_col : 1, r->id, NULL,
                "when: 条件不读取任何字段，且%s：这条规则从不运行", t.failed ? "总为假" : "结果总为空");
    }
}

/* Comparisons of an expression with itself, anywhere in n. */
static bool self_compare(lctx *x, const inst *in, const rnode *n, bool in_when)
{
    if (!n)
        return false;
    bool found = false;
    if (n->kind == N_CMP) {
        /* the same as written ({k} = {k}): one finding for the rule, at its first instance */
        inst raw = *in;
        raw.raw = true;
        char *l = canon_dup(n->args[0], in), *r = canon_dup(n->args[1], in);
        char *rl = canon_dup(n->args[0], &raw), *rr = canon_dup(n->args[1], &raw);
        bool every = rl && rr && strcmp(rl, rr) == 0;
        free(rl);
        free(rr);
        if (!l || !r)
            x->nomem = true;
        else if (strcmp(l, r) == 0 && reads_field(n->args[0]) && (found = true) &&
                 !(every && in->binding > 0)) {
            bool always = n->op == T_EQ || n->op == T_LE || n->op == T_GE;
            char msg[512];
            const char *verdict = always
                                      ? (in_when ? "总是成立：条件形同虚设" : "总是成立：它什么也没检查")
                                      : (in_when ? "总不成立：这条规则从不运行" : "总不成立：只要有值就报错");
            if (in_when)
                snprintf(msg, sizeof msg, "when: 条件中「%s」两边相同，%s", cmp_word(n->op), verdict);
            else
                snprintf(msg, sizeof msg, "检查「%s」中「%s」两边相同，%s",
                         every ? in->r->check_text : in->text, cmp_word(n->op), verdict);
            int line = in->r->when_line, col = in->r->when_col;
            if (!in_when)
                check_position(in->r, n->pos, &line, &col);
            add(x->rep, PS_LINT_SELF_COMPARE, PS_SEV_WARNING, in->file, line, col > 0 ? col : 1, in->r->id,
                every ? NULL : in->label, "%s", msg);
        }
        free(l);
        free(r);
    }
    for (size_t i = 0; i < n->nargs; i++)
        found |= self_compare(x, in, n->args[i], in_when);
    return self_compare(x, in, n->where, in_when) || found;
}

/* ---------------------------------------------------------------- duplicates */

typedef struct canon_ref {
    const char *canon;
    size_t i;
} canon_ref;

static int by_canon(const void *a, const void *b)
{
    const canon_ref *x = a, *y = b;
    int c = strcmp(x->canon, y->canon);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

static void duplicates(lctx *x)
{
    canon_ref *refs = malloc((x->ninsts ? x->ninsts : 1) * sizeof *refs);
    if (!refs) {
        x->nomem = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < x->ninsts; i++)
        if (!x->insts[i].said)
            refs[n++] = (canon_ref){x->insts[i].canon, i};
    if (n)
        qsort(refs, n, sizeof *refs, by_canon);
    bool *said =
        calloc(x->ninsts ? x->ninsts : 1, sizeof *said); /* per instance: its rule's "all the same" */
    for (size_t k = 1; said && k < n; k++) {
        if (strcmp(refs[k].canon, refs[k - 1].canon) != 0)
            continue;
        /* the first of the run of equal checks is the original */
        size_t j = k - 1;
        while (j > 0 && strcmp(refs[j - 1].canon, refs[k].canon) == 0)
            j--;
        size_t first = refs[j].i;
        inst *dup = &x->insts[refs[k].i];
        const inst *orig = &x->insts[first];
        dup->duplicate = true;
        char msg[1024];
        if (dup->r == orig->r) {
            if (said[first])
                continue;
            said[first] = true;
            size_t count = ps_rule_instance_count(dup->r);
            snprintf(msg, sizeof msg,
                     "for: 展开的 %zu 个实例中，%s 与 %s 的检查相同：for: 变量没有用在检查里？", count,
                     orig->label ? orig->label : "", dup->label ? dup->label : "");
            add_at_rule_check(x, dup, PS_LINT_DUPLICATE, msg);
        } else {
            bool here = strcmp(orig->file, dup->file) == 0;
            snprintf(msg, sizeof msg, "检查「%s」与 %s%s%s%s（%s%s第 %d 行）的「%s」相同", dup->text,
                     orig->r->id, orig->label ? "[" : "", orig->label ? orig->label : "",
                     orig->label ? "]" : "", here ? "" : orig->file, here ? "" : " ", orig->r->check_line,
                     orig->text);
            add_at_check(x, dup, PS_LINT_DUPLICATE, PS_SEV_WARNING, msg);
        }
    }
    if (!said)
        x->nomem = true;
    free(said);
    free(refs);
}

/* Two hierarchy: rules of one template over the same table, codes and levels that check a column
 * both: the second adds nothing (each parent = Σ children is checked twice). */
static void hierarchy_overlaps(lctx *x)
{
    for (size_t i = 0; i < x->ninsts; i++) {
        const rhier *h = x->insts[i].r->hier;
        if (!h)
            continue;
        for (size_t j = 0; j < i; j++) {
            const rhier *o = x->insts[j].r->hier;
            if (!o || strcmp(x->insts[i].mapping_id, x->insts[j].mapping_id) != 0 ||
                strcmp(h->table, o->table) != 0 || strcmp(h->code, o->code) != 0 ||
                h->nlevels != o->nlevels ||
                memcmp(h->levels, o->levels, h->nlevels * sizeof h->levels[0]) != 0)
                continue;
            const char *same = NULL;
            for (size_t a = 0; a < h->ncols && !same; a++)
                for (size_t b = 0; b < o->ncols && !same; b++)
                    if (!strcmp(h->cols[a], o->cols[b]))
                        same = h->cols[a];
            if (!same)
                continue;
            char msg[512];
            snprintf(msg, sizeof msg, "hierarchy: 与 %s（第 %d 行）都核对表 %s 的列 %s：同一组求和检查了两次",
                     x->insts[j].r->id, x->insts[j].r->check_line, h->table, same);
            add_at_check(x, &x->insts[i], PS_LINT_DUPLICATE, PS_SEV_WARNING, msg);
            break;
        }
    }
}

/* ---------------------------------------------------------------- exact rationals */

typedef struct rat {
    int64_t n, d; /* d > 0, gcd(n, d) = 1 */
} rat;

static __int128 gcd128(__int128 a, __int128 b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        __int128 t = a % b;
        a = b;
        b = t;
    }
    return a ? a : 1;
}

static rat rmake(__int128 n, __int128 d, bool *overflow)
{
    if (d < 0) {
        n = -n;
        d = -d;
    }
    __int128 g = gcd128(n, d);
    n /= g;
    d /= g;
    if (n > INT64_MAX || n < -INT64_MAX || d > INT64_MAX) {
        *overflow = true;
        return (rat){0, 1};
    }
    return (rat){(int64_t)n, (int64_t)d};
}

static rat radd(rat a, rat b, bool *of)
{
    return rmake((__int128)a.n * b.d + (__int128)b.n * a.d, (__int128)a.d * b.d, of);
}
static rat rmul(rat a, rat b, bool *of)
{
    return rmake((__int128)a.n * b.n, (__int128)a.d * b.d, of);
}
static rat rdiv(rat a, rat b, bool *of)
{
    return rmake((__int128)a.n * b.d, (__int128)a.d * b.n, of);
}
static rat rneg(rat a)
{
    return (rat){-a.n, a.d};
}
static int rcmp(rat a, rat b)
{
    __int128 l = (__int128)a.n * b.d, r = (__int128)b.n * a.d;
    return (l > r) - (l < r);
}

/* A number of a rule as an exact fraction: the decimals it was written with. */
static bool rat_of(double v, rat *out)
{
    double scale = 1;
    for (int k = 0; k <= 9; k++, scale *= 10) {
        double s = v * scale;
        if (fabs(s) > 1e15)
            return false;
        if (fabs(s - nearbyint(s)) < 1e-9 * fmax(1, fabs(s))) {
            bool of = false;
            *out = rmake((__int128)llround(s), (__int128)llround(scale), &of);
            return !of;
        }
    }
    return false;
}

static void rat_text(rat a, char *buf, size_t size)
{
    if (a.d == 1)
        snprintf(buf, size, "%" PRId64, a.n);
    else
        snprintf(buf, size, "%.10g", (double)a.n / (double)a.d);
}

/* ---------------------------------------------------------------- linear forms */

typedef struct term {
    size_t var; /* index into the variable names */
    rat c;
} term;

/* sum of c·var + k */
typedef struct lin {
    term *t;
    size_t n;
    rat k;
} lin;

typedef struct vars {
    char **name;    /* "zpb:funds.score", "zpb:blocks[].score" (owned) */
    char **display; /* as a rule of its own mapping writes it (owned) */
    size_t n, cap;
} vars;

static size_t var_index(vars *v, const char *name, const char *display, bool *nomem)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->name[i], name) == 0)
            return i;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        char **a = realloc(v->name, cap * sizeof *a);
        if (a)
            v->name = a;
        char **d = a ? realloc(v->display, cap * sizeof *d) : NULL;
        if (d)
            v->display = d;
        if (!a || !d) {
            *nomem = true;
            return SIZE_MAX;
        }
        v->cap = cap;
    }
    char *n = strdup(name), *d = strdup(display);
    if (!n || !d) {
        free(n);
        free(d);
        *nomem = true;
        return SIZE_MAX;
    }
    v->name[v->n] = n;
    v->display[v->n] = d;
    return v->n++;
}

static void lin_free(lin *l)
{
    free(l->t);
    l->t = NULL;
    l->n = 0;
}

/* a + f·b into a fresh form (terms sorted by variable index); false on overflow or nomem. */
static bool lin_axpy(const lin *a, rat f, const lin *b, lin *out)
{
    bool of = false;
    lin r = {0};
    r.t = malloc((a->n + b->n + 1) * sizeof *r.t);
    if (!r.t)
        return false;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        term t;
        if (j >= b->n || (i < a->n && a->t[i].var < b->t[j].var)) {
            t = a->t[i++];
        } else if (i >= a->n || b->t[j].var < a->t[i].var) {
            t = (term){b->t[j].var, rmul(f, b->t[j].c, &of)};
            j++;
        } else {
            t = (term){a->t[i].var, radd(a->t[i].c, rmul(f, b->t[j].c, &of), &of)};
            i++;
            j++;
        }
        if (t.c.n != 0)
            r.t[r.n++] = t;
    }
    r.k = radd(a->k, rmul(f, b->k, &of), &of);
    if (of) {
        lin_free(&r);
        return false;
    }
    *out = r;
    return true;
}

static bool lin_scale(lin *a, rat f)
{
    bool of = false;
    for (size_t i = 0; i < a->n; i++)
        a->t[i].c = rmul(a->t[i].c, f, &of);
    a->k = rmul(a->k, f, &of);
    return !of;
}

static rat lin_coef(const lin *a, size_t var)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->t[i].var == var)
            return a->t[i].c;
    return (rat){0, 1};
}

typedef struct linctx {
    vars *v;
    const inst *in;
    bool nomem;
} linctx;

/* The linear form of n, or false when n is not linear (functions, texts, a field times a field,
 * a division by a field, a {var} left unsubstituted). */
/* ---- opaque terms */

static const char *const function_names[] = {
    [F_SUM] = "SUM",       [F_COUNT] = "COUNT",     [F_MIN] = "MIN",           [F_MAX] = "MAX",
    [F_ABS] = "ABS",       [F_ROUND] = "ROUND",     [F_COALESCE] = "COALESCE", [F_PRESENT] = "PRESENT",
    [F_BLANK] = "BLANK",   [F_MATCHES] = "MATCHES", [F_DIGITS] = "DIGITS",     [F_TEXT] = "TEXT",
    [F_NUMBER] = "NUMBER", [F_IF] = "IF",           [F_YEAR] = "YEAR",         [F_THIS_YEAR] = "THIS_YEAR",
    [F_IN] = "IN",         [F_LEN] = "LEN",         [F_FORMULA] = "FORMULA",   [F_RAW] = "RAW",
};

static int precedence(const rnode *n)
{
    switch (n->kind) {
    case N_OR: return 1;
    case N_AND: return 2;
    case N_NOT: return 3;
    case N_CMP: return 4;
    case N_ARITH: return n->op == '+' || n->op == '-' ? 5 : 6;
    case N_NEG: return 7;
    default: return 8;
    }
}

/* n written back as a rule would write it (for messages about an opaque term). */
static void show(sbuf *b, const rnode *n, const inst *in);

static void show_operand(sbuf *b, const rnode *child, int prec, bool right, const inst *in)
{
    int cp = precedence(child);
    bool paren = cp < prec || (right && cp == prec && prec >= 5);
    if (paren)
        sb_puts(b, "(");
    show(b, child, in);
    if (paren)
        sb_puts(b, ")");
}

static void show(sbuf *b, const rnode *n, const inst *in)
{
    switch (n->kind) {
    case N_NUM: sb_printf(b, "%.10g", n->num); break;
    case N_STR: sb_printf(b, "\"%s\"", n->str ? n->str : ""); break;
    case N_FIELD:
    case N_COL: canon(b, n, in); break;
    case N_NEG:
        sb_puts(b, "-");
        show_operand(b, n->args[0], precedence(n), false, in);
        break;
    case N_NOT:
        sb_puts(b, "NOT ");
        show_operand(b, n->args[0], precedence(n), false, in);
        break;
    case N_ARITH:
    case N_CMP:
    case N_AND:
    case N_OR: {
        const char *op = n->kind == N_AND ? " AND " : n->kind == N_OR ? " OR " : NULL;
        char ch[4] = {' ', (char)n->op, ' ', 0};
        show_operand(b, n->args[0], precedence(n), false, in);
        if (n->kind == N_CMP) {
            sb_printf(b, " %s ", cmp_word(n->op));
        } else {
            sb_puts(b, op ? op : ch);
        }
        show_operand(b, n->args[1], precedence(n), true, in);
        break;
    }
    case N_CALL:
        sb_puts(b, (unsigned)n->fn < sizeof function_names / sizeof function_names[0] ? function_names[n->fn]
                                                                                      : "?");
        sb_puts(b, "(");
        for (size_t i = 0; i < n->nargs; i++) {
            if (i)
                sb_puts(b, ", ");
            show(b, n->args[i], in);
        }
        if (n->where) {
            sb_puts(b, " WHERE ");
            show(b, n->where, in);
        }
        sb_puts(b, ")");
        break;
    }
}

/* A term that is not linear in the fields (SUM(…), COALESCE(…), a × b, a / b) as one opaque
 * variable: equal terms (after normalisation) are one variable, so `a = SUM(t[].x)` and
 * `a = SUM(t[].x) + b` still mean b = 0. In an each: rule the term belongs to the row or group
 * (it may read them), so it is shared only with rules over the same table and grouping. */
static bool atom(linctx *c, const rnode *n, lin *out)
{
    if (!reads_field(n))
        return false;
    sbuf key = {0}, disp = {0};
    canon(&key, n, c->in);
    show(&disp, n, c->in);
    if (!key.p || !disp.p || key.nomem || disp.nomem || strchr(key.p, '{')) { /* a {var} left: not it */
        c->nomem |= key.nomem || disp.nomem;
        free(key.p);
        free(disp.p);
        return false;
    }
    sbuf name = {0};
    sb_printf(&name, "%s:", c->in->mapping_id);
    sb_puts(&name, key.p);
    if (c->in->r->each_table)
        sb_printf(&name, " @%s by %s", c->in->r->each_table,
                  c->in->r->each_group ? c->in->r->each_group : "");
    size_t vi = name.nomem || !name.p ? SIZE_MAX : var_index(c->v, name.p, disp.p, &c->nomem);
    free(key.p);
    free(disp.p);
    free(name.p);
    if (vi == SIZE_MAX || !(out->t = malloc(sizeof *out->t)))
        return c->nomem = true, false;
    out->t[0] = (term){vi, {1, 1}};
    out->n = 1;
    out->k = (rat){0, 1};
    return true;
}

static bool linearize(linctx *c, const rnode *n, lin *out)
{
    memset(out, 0, sizeof *out);
    out->k = (rat){0, 1};
    switch (n->kind) {
    case N_NUM: return rat_of(n->num, &out->k);
    case N_FIELD:
    case N_COL: {
        const ps_rule *r = c->in->r;
        if (n->kind == N_COL && (!n->str || !r->each_table || strcmp(n->table, r->each_table) != 0))
            return false;
        sbuf key = {0}, name = {0};
        if (n->kind == N_FIELD) {
            subst(&key, n->str, c->in);
        } else {
            subst(&key, n->table, c->in);
            sb_puts(&key, "[].");
            subst(&key, n->str, c->in);
        }
        if (key.p && strchr(key.p, '{')) {
            free(key.p);
            return false;
        }
        sb_puts(&name, n->ns ? n->ns : c->in->mapping_id);
        sb_puts(&name, ":");
        sb_puts(&name, key.p ? key.p : "");
        if (n->kind == N_COL && r->each_group) /* the group's value, not a row's */
            sb_printf(&name, " by %s", r->each_group);
        sbuf disp = {0};
        if (n->ns) {
            sb_puts(&disp, n->ns);
            sb_puts(&disp, ":");
        }
        sb_puts(&disp, key.p ? key.p : "");
        size_t vi = SIZE_MAX;
        if (!key.nomem && !name.nomem && !disp.nomem && name.p && disp.p)
            vi = var_index(c->v, name.p, disp.p, &c->nomem);
        else
            c->nomem = true;
        free(key.p);
        free(name.p);
        free(disp.p);
        if (vi == SIZE_MAX || !(out->t = malloc(sizeof *out->t)))
            return c->nomem = true, false;
        out->t[0] = (term){vi, {1, 1}};
        out->n = 1;
        return true;
    }
    case N_NEG:
        if (!linearize(c, n->args[0], out))
            return false;
        if (!lin_scale(out, (rat){-1, 1})) {
            lin_free(out);
            return false;
        }
        return true;
    case N_ARITH: {
        lin a, b;
        if (!linearize(c, n->args[0], &a))
            return atom(c, n, out);
        if (!linearize(c, n->args[1], &b)) {
            lin_free(&a);
            return atom(c, n, out);
        }
        bool ok = false;
        if (n->op == '+' || n->op == '-') {
            ok = lin_axpy(&a, (rat){n->op == '+' ? 1 : -1, 1}, &b, out);
        } else if (n->op == '*' && (a.n == 0 || b.n == 0)) {
            lin *f = a.n == 0 ? &a : &b, *g = a.n == 0 ? &b : &a;
            ok = lin_scale(g, f->k);
            if (ok) {
                *out = *g;
                g->t = NULL;
                g->n = 0;
            }
        } else if (n->op == '/' && b.n == 0 && b.k.n != 0) {
            bool of = false;
            rat inv = rdiv((rat){1, 1}, b.k, &of);
            ok = !of && lin_scale(&a, inv);
            if (ok) {
                *out = a;
                a.t = NULL;
                a.n = 0;
            }
        }
        lin_free(&a);
        lin_free(&b);
        /* drop terms that cancelled (x - x) */
        if (ok) {
            size_t m = 0;
            for (size_t i = 0; i < out->n; i++)
                if (out->t[i].c.n != 0)
                    out->t[m++] = out->t[i];
            out->n = m;
        }
        return ok || atom(c, n, out);
    }
    default: return atom(c, n, out);
    }
}

/* One linear comparison of one instance: sum c·x op k, scaled so that the first variable (by
 * name) has coefficient 1. */
typedef struct cons {
    size_t inst;
    lin l; /* l.k unused (0) */
    int op;
    rat k;
    char *key;    /* the variables and their coefficients: cons with one key bound one combination */
    size_t *prov; /* a derived equality: the constraints it was combined from (owned); else NULL */
    size_t nprov;
} cons;

static int flip(int op)
{
    switch (op) {
    case T_LT: return T_GT;
    case T_LE: return T_GE;
    case T_GT: return T_LT;
    case T_GE: return T_LE;
    default: return op;
    }
}

static const char *op_sign(int op)
{
    switch (op) {
    case T_EQ: return "=";
    case T_LT: return "<";
    case T_LE: return "≤";
    case T_GT: return ">";
    case T_GE: return "≥";
    default: return "?";
    }
}

/* "a - b - c" of a form, its variables as the rules write them. */
static void lin_text(sbuf *b, const lin *l, const vars *v)
{
    for (size_t i = 0; i < l->n; i++) {
        rat c = l->t[i].c;
        bool neg = c.n < 0;
        if (neg)
            c = rneg(c);
        sb_puts(b, i == 0 ? (neg ? "-" : "") : (neg ? " - " : " + "));
        if (!(c.n == 1 && c.d == 1)) {
            char num[64];
            rat_text(c, num, sizeof num);
            sb_puts(b, num);
            sb_puts(b, "×");
        }
        sb_puts(b, v->display[l->t[i].var]);
    }
    if (l->n == 0)
        sb_puts(b, "0");
}

static void cons_text(sbuf *b, const cons *c, const vars *v)
{
    char num[64];
    lin_text(b, &c->l, v);
    rat_text(c->k, num, sizeof num);
    sb_printf(b, " %s %s", op_sign(c->op), num);
}

static const vars *sort_vars; /* qsort has no context argument in C11 */
static int term_by_name(const void *a, const void *b)
{
    return strcmp(sort_vars->name[((const term *)a)->var], sort_vars->name[((const term *)b)->var]);
}
static int term_by_index(const void *a, const void *b)
{
    const term *x = a, *y = b;
    return (x->var > y->var) - (x->var < y->var);
}

typedef struct linsys {
    vars v;
    cons *c;
    size_t n, cap;
} linsys;

/* Appends d op k (takes d and prov), normalised: terms by name, the first coefficient 1. */
static void add_cons(lctx *x, linsys *s, size_t ii, lin d, int op, rat k, size_t *prov, size_t nprov)
{
    sort_vars = &s->v;
    qsort(d.t, d.n, sizeof *d.t, term_by_name);
    rat f = d.t[0].c;
    bool of = false;
    rat inv = rdiv((rat){1, 1}, f, &of);
    sbuf key = {0};
    if (!of && lin_scale(&d, inv)) {
        k = rmul(k, inv, &of);
        if (f.n < 0)
            op = flip(op);
        for (size_t i = 0; i < d.n; i++) {
            sb_printf(&key, "%" PRId64 "/%" PRId64 "*", d.t[i].c.n, d.t[i].c.d);
            sb_puts(&key, s->v.name[d.t[i].var]);
            sb_puts(&key, ";");
        }
    } else {
        of = true;
    }
    qsort(d.t, d.n, sizeof *d.t, term_by_index);
    if (!of && !key.nomem && s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cons *a = realloc(s->c, cap * sizeof *a);
        if (a) {
            s->c = a;
            s->cap = cap;
        } else {
            key.nomem = true;
        }
    }
    if (of || key.nomem || !key.p) {
        free(key.p);
        lin_free(&d);
        free(prov);
        x->nomem |= key.nomem;
        return;
    }
    s->c[s->n++] = (cons){ii, d, op, k, key.p, prov, nprov};
}

/* Adds the comparisons of the instance that are linear (the conjuncts of a top-level AND). */
static void collect(lctx *x, linsys *s, size_t ii, const rnode *n)
{
    if (!n)
        return;
    if (n->kind == N_AND) {
        for (size_t i = 0; i < n->nargs; i++)
            collect(x, s, ii, n->args[i]);
        return;
    }
    if (n->kind != N_CMP || n->op == T_NE)
        return;
    linctx lc = {&s->v, &x->insts[ii], false};
    lin l, r, d;
    if (!linearize(&lc, n->args[0], &l)) {
        x->nomem |= lc.nomem;
        return;
    }
    if (!linearize(&lc, n->args[1], &r)) {
        x->nomem |= lc.nomem;
        lin_free(&l);
        return;
    }
    bool ok = lin_axpy(&l, (rat){-1, 1}, &r, &d);
    lin_free(&l);
    lin_free(&r);
    if (!ok)
        return;
    int op = n->op;
    rat k = rneg(d.k);
    d.k = (rat){0, 1};
    if (d.n == 0) { /* the fields cancel: a constant comparison */
        lin_free(&d);
        const inst *in = &x->insts[ii];
        char *ls = canon_dup(n->args[0], in), *rs = canon_dup(n->args[1], in);
        bool said = !ls || !rs || strcmp(ls, rs) == 0 || !reads_field(n); /* self_compare, constant_check */
        free(ls);
        free(rs);
        if (said)
            return;
        int c = rcmp((rat){0, 1}, k);
        bool holds = op == T_EQ   ? c == 0
                     : op == T_LT ? c < 0
                     : op == T_LE ? c <= 0
                     : op == T_GT ? c > 0
                                  : c >= 0;
        char msg[512];
        snprintf(msg, sizeof msg, "检查「%s」中「%s」两边的字段相互抵消，%s", in->text, cmp_word(n->op),
                 holds ? "总是成立：它什么也没检查" : "总不成立：只要有值就报错");
        int line, col;
        check_position(in->r, n->pos, &line, &col);
        add(x->rep, PS_LINT_CONSTANT, PS_SEV_WARNING, in->file, line, col, in->r->id, in->label, "%s", msg);
        return;
    }
    add_cons(x, s, ii, d, op, k, NULL, 0);
}

/* "t.a（第 3 行）" of the instance of constraint i. */
static void list_rules(sbuf *b, const lctx *x, const linsys *s, const size_t *prov, size_t n, size_t except);

static void rule_ref(sbuf *b, const lctx *x, const linsys *s, size_t ci)
{
    if (s->c[ci].prov) { /* a derived equality: the rules it comes from */
        list_rules(b, x, s, s->c[ci].prov, s->c[ci].nprov, SIZE_MAX);
        sb_puts(b, "合起来");
        return;
    }
    const inst *in = &x->insts[s->c[ci].inst];
    bool there = x->here && strcmp(x->here, in->file) != 0;
    sb_puts(b, in->r->id);
    if (in->label)
        sb_printf(b, "[%s]", in->label);
    sb_printf(b, "（%s%s第 %d 行「%s」）", there ? in->file : "", there ? " " : "", in->r->check_line,
              in->text);
}

/* ---- equalities: Gaussian elimination */

typedef struct row {
    lin l; /* sum c·x = l.k */
    size_t pivot;
    size_t *prov; /* the constraints combined into it, ascending */
    size_t nprov;
} row;

static bool prov_union(row *r, const row *o)
{
    size_t *u = malloc((r->nprov + o->nprov) * sizeof *u);
    if (!u)
        return false;
    size_t i = 0, j = 0, n = 0;
    while (i < r->nprov || j < o->nprov) {
        size_t v;
        if (j >= o->nprov || (i < r->nprov && r->prov[i] < o->prov[j]))
            v = r->prov[i++];
        else if (i >= r->nprov || o->prov[j] < r->prov[i])
            v = o->prov[j++];
        else {
            v = r->prov[i++];
            j++;
        }
        u[n++] = v;
    }
    free(r->prov);
    r->prov = u;
    r->nprov = n;
    return true;
}

/* r -= (r's coefficient of o's pivot) × o */
static bool eliminate(row *r, const row *o)
{
    rat c = lin_coef(&r->l, o->pivot);
    if (c.n == 0)
        return true;
    lin out;
    if (!lin_axpy(&r->l, rneg(c), &o->l, &out))
        return false;
    lin_free(&r->l);
    r->l = out;
    return prov_union(r, o);
}

static void row_free(row *r)
{
    lin_free(&r->l);
    free(r->prov);
}

static void list_rules(sbuf *b, const lctx *x, const linsys *s, const size_t *prov, size_t n, size_t except)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (prov[i] == except)
            continue;
        if (!first)
            sb_puts(b, "、");
        first = false;
        rule_ref(b, x, s, prov[i]);
    }
}

static void equalities(lctx *x, linsys *s)
{
    row *rows = calloc(s->n ? s->n : 1, sizeof *rows);
    size_t nrows = 0;
    if (!rows) {
        x->nomem = true;
        return;
    }
    for (size_t ci = 0; ci < s->n; ci++) {
        const cons *c = &s->c[ci];
        if (c->op != T_EQ)
            continue;
        row r = {0};
        r.prov = malloc(sizeof *r.prov);
        lin z = {0};
        if (!r.prov || !lin_axpy(&z, (rat){1, 1}, &c->l, &r.l)) {
            free(r.prov);
            continue;
        }
        r.l.k = c->k;
        r.prov[0] = ci;
        r.nprov = 1;
        bool ok = true;
        for (size_t p = 0; p < nrows && ok; p++)
            ok = eliminate(&r, &rows[p]);
        if (!ok) { /* too large to stay exact: say nothing about it */
            row_free(&r);
            continue;
        }
        const inst *in = &x->insts[c->inst];
        bool weaker = false; /* implied only by less severe rules: an escalation, not a redundancy */
        for (size_t p = 0; p < r.nprov; p++)
            weaker |= x->insts[s->c[r.prov[p]].inst].r->severity < in->r->severity;
        if (r.l.n == 0 && r.l.k.n == 0 && weaker) {
            row_free(&r);
            continue;
        }
        x->here = in->file;
        if (r.l.n == 0) {
            sbuf b = {0};
            if (r.l.k.n == 0) {
                sb_puts(&b, "这条等式可由 ");
                list_rules(&b, x, s, r.prov, r.nprov, ci);
                sb_puts(&b, "推出：它不会单独报错");
            } else {
                char num[64];
                rat_text(r.l.k, num, sizeof num);
                sb_puts(&b, "与 ");
                list_rules(&b, x, s, r.prov, r.nprov, ci);
                sb_printf(&b, "不能同时成立：合起来要求 0 = %s", num);
            }
            if (b.p)
                add_at_check(x, in, r.l.k.n == 0 ? PS_LINT_REDUNDANT : PS_LINT_CONTRADICTION,
                             r.l.k.n == 0 ? PS_SEV_WARNING : PS_SEV_ERROR, b.p);
            x->nomem |= b.nomem;
            free(b.p);
            row_free(&r);
            continue;
        }
        bool of = false;
        r.pivot = r.l.t[0].var;
        rat inv = rdiv((rat){1, 1}, r.l.t[0].c, &of);
        if (of || !lin_scale(&r.l, inv)) {
            row_free(&r);
            continue;
        }
        rows[nrows++] = r;
    }
    /* back substitution: each row keeps its pivot and free variables only */
    for (size_t i = nrows; i-- > 0;)
        for (size_t j = 0; j < i; j++)
            if (!eliminate(&rows[j], &rows[i]))
                rows[j].nprov = 0; /* inexact: no claim about it */
    for (size_t i = 0; i < nrows; i++) {
        row *r = &rows[i];
        if (r->l.n != 1 || r->nprov < 2)
            continue;
        size_t last = r->prov[r->nprov - 1];
        const inst *in = &x->insts[s->c[last].inst];
        x->here = in->file;
        char num[64];
        rat_text(r->l.k, num, sizeof num);
        sbuf b = {0};
        sb_puts(&b, "与 ");
        list_rules(&b, x, s, r->prov, r->nprov, last);
        sb_printf(&b, "同时要求，意味着 %s = %s", s->v.display[r->pivot], num);
        if (r->l.k.n == 0)
            sb_puts(&b, "：这一项只能为零？");
        if (b.p)
            add_at_check(x, in, PS_LINT_IMPLIED_VALUE, PS_SEV_WARNING, b.p);
        x->nomem |= b.nomem;
        free(b.p);
    }
    /* what the equalities imply together joins the bounds (intervals()): a = b + c and
     * a = b + c + d mean d = 0, which a rule d >= 1 contradicts */
    for (size_t i = 0; i < nrows; i++) {
        row *r = &rows[i];
        lin d, z = {0};
        if (r->nprov < 2 || r->l.n == 0 || !lin_axpy(&z, (rat){1, 1}, &r->l, &d))
            continue;
        d.k = (rat){0, 1};
        size_t *prov = malloc(r->nprov * sizeof *prov);
        if (!prov) {
            lin_free(&d);
            x->nomem = true;
            continue;
        }
        memcpy(prov, r->prov, r->nprov * sizeof *prov);
        add_cons(x, s, s->c[r->prov[r->nprov - 1]].inst, d, T_EQ, r->l.k, prov, r->nprov);
    }
    for (size_t i = 0; i < nrows; i++)
        row_free(&rows[i]);
    free(rows);
}

/* ---- inequalities: intervals per combination of fields */

typedef struct bound {
    rat k;
    bool strict, set;
    size_t ci;
} bound;

/* Whether bound a is at least as tight as b on the same side (upper: a.k <= b.k). */
static bool tighter(const bound *a, const bound *b, bool upper)
{
    int c = rcmp(a->k, b->k);
    if (upper ? c < 0 : c > 0)
        return true;
    return c == 0 && (a->strict || !b->strict);
}

static int by_key(const void *a, const void *b)
{
    const cons *x = *(const cons *const *)a, *y = *(const cons *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->inst > y->inst) - (x->inst < y->inst);
}

static void intervals(lctx *x, linsys *s)
{
    const cons **order = malloc((s->n ? s->n : 1) * sizeof *order);
    if (!order) {
        x->nomem = true;
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        order[i] = &s->c[i];
    qsort(order, s->n, sizeof *order, by_key);
    for (size_t g = 0; g < s->n;) {
        size_t end = g + 1;
        while (end < s->n && strcmp(order[end]->key, order[g]->key) == 0)
            end++;
        bool any_ineq = false;
        for (size_t i = g; i < end; i++)
            any_ineq |= order[i]->op != T_EQ;
        /* each bound that leaves no room with an earlier one on the other side (two equalities
         * are equalities()'s to say) */
        for (size_t i = g + 1; any_ineq && i < end; i++) {
            const cons *c = order[i];
            for (size_t j = g; j < i; j++) {
                const cons *o = order[j];
                if ((c->op == T_EQ && o->op == T_EQ) || (c->prov && o->prov))
                    continue;
                const cons *u = NULL, *l = NULL; /* an upper bound and a lower bound of the two */
                bool cu = c->op == T_EQ || c->op == T_LT || c->op == T_LE;
                bool cl = c->op == T_EQ || c->op == T_GT || c->op == T_GE;
                bool ou = o->op == T_EQ || o->op == T_LT || o->op == T_LE;
                bool ol = o->op == T_EQ || o->op == T_GT || o->op == T_GE;
                if (cu && ol) {
                    u = c;
                    l = o;
                }
                if (!u && ou && cl) {
                    u = o;
                    l = c;
                }
                if (!u)
                    continue;
                int cmp = rcmp(l->k, u->k);
                bool strict = l->op == T_GT || u->op == T_LT;
                if (!(cmp > 0 || (cmp == 0 && strict)))
                    continue;
                const cons *at = c->prov ? o : c, *other = at == c ? o : c; /* said at a rule */
                x->here = x->insts[at->inst].file;
                sbuf b = {0}, t1 = {0}, t2 = {0};
                cons_text(&t1, at, &s->v);
                cons_text(&t2, other, &s->v);
                sb_puts(&b, "与 ");
                rule_ref(&b, x, s, (size_t)(other - s->c));
                sb_printf(&b, "不能同时成立：%s 与 %s 没有共同的解", t1.p ? t1.p : "", t2.p ? t2.p : "");
                if (b.p && !b.nomem)
                    add_at_check(x, &x->insts[at->inst], PS_LINT_CONTRADICTION, PS_SEV_ERROR, b.p);
                x->nomem |= b.nomem || t1.nomem || t2.nomem;
                free(b.p);
                free(t1.p);
                free(t2.p);
                break;
            }
        }
        /* a bound looser than (or the same as) another's on its side is implied by it — when
         * that other rule is at least as severe (a warning at 90 and an error at 100 is a
         * pattern, not a redundancy); of two equal bounds the later one is said */
        for (size_t i = g; i < end; i++) {
            const cons *c = order[i];
            if (c->op == T_EQ || x->insts[c->inst].duplicate)
                continue;
            bool upper = c->op == T_LT || c->op == T_LE;
            bound bc = {c->k, c->op == T_LT || c->op == T_GT, true, (size_t)(c - s->c)};
            const cons *by = NULL;
            for (size_t j = g; j < end && !by; j++) {
                const cons *o = order[j];
                bool side = o->op == T_EQ ||
                            (upper ? (o->op == T_LT || o->op == T_LE) : (o->op == T_GT || o->op == T_GE));
                if (o == c || !side || o->prov ||
                    x->insts[o->inst].r->severity < x->insts[c->inst].r->severity)
                    continue;
                bound bo = {o->k, o->op == T_LT || o->op == T_GT, true, (size_t)(o - s->c)};
                if (!tighter(&bo, &bc, upper))
                    continue;
                bool same = o->op != T_EQ && tighter(&bc, &bo, upper) &&
                            x->insts[o->inst].r->severity == x->insts[c->inst].r->severity;
                if (same && o->inst > c->inst)
                    continue; /* the same bound: the later of the two is said */
                by = o;
            }
            if (!by)
                continue;
            x->here = x->insts[c->inst].file;
            sbuf b = {0}, t1 = {0}, t2 = {0};
            cons_text(&t1, c, &s->v);
            cons_text(&t2, by, &s->v);
            sb_printf(&b, "%s 已由 ", t1.p ? t1.p : "");
            rule_ref(&b, x, s, (size_t)(by - s->c));
            sb_printf(&b, "的 %s 蕴含：这条规则不会单独报错", t2.p ? t2.p : "");
            if (b.p && !b.nomem)
                add_at_check(x, &x->insts[c->inst], PS_LINT_REDUNDANT, PS_SEV_WARNING, b.p);
            x->nomem |= b.nomem || t1.nomem || t2.nomem;
            free(b.p);
            free(t1.p);
            free(t2.p);
        }
        g = end;
    }
    free(order);
}

static void linear(lctx *x)
{
    linsys s = {0};
    for (size_t i = 0; i < x->ninsts; i++) {
        const inst *in = &x->insts[i];
        if (in->duplicate || in->conditional || in->said)
            continue;
        collect(x, &s, i, in->r->check);
    }
    equalities(x, &s);
    intervals(x, &s);
    for (size_t i = 0; i < s.n; i++) {
        lin_free(&s.c[i].l);
        free(s.c[i].key);
        free(s.c[i].prov);
    }
    free(s.c);
    for (size_t i = 0; i < s.v.n; i++) {
        free(s.v.name[i]);
        free(s.v.display[i]);
    }
    free(s.v.name);
    free(s.v.display);
}

/* ---------------------------------------------------------------- coverage */

typedef struct covered {
    const ps_rule *r;
    const char *mapping_id, *file;
    ps_rule_tally *tally; /* per instance */
    size_t documents;
} covered;

typedef struct unit_doc {
    const char *unit;
    int year;
    size_t idx;
} unit_doc;

static int by_unit(const void *pa, const void *pb)
{
    const unit_doc *a = pa, *b = pb;
    int c = strcmp(a->unit, b->unit);
    if (c)
        return c;
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* Runs a cross-table rule on every group of documents of one unit and year, as check.c pairs
 * them (each document of the first template with the first of every other template). */
static ps_status cover_cross(covered *cv, ps_document **docs, const unit_doc *keys, size_t nkeys,
                             ps_error *err)
{
    const ps_rule *r = cv->r;
    size_t k = ps_rule_namespace_count(r);
    if (k == 0 || k > 8)
        return PS_OK;
    for (size_t g = 0; g < nkeys;) {
        size_t end = g + 1;
        while (end < nkeys && keys[end].year == keys[g].year && strcmp(keys[end].unit, keys[g].unit) == 0)
            end++;
        for (size_t i = g; i < end; i++) {
            ps_document *pick[8] = {docs[keys[i].idx]};
            if (strcmp(ps_document_template(pick[0]), ps_rule_namespace(r, 0)) != 0)
                continue;
            bool complete = true;
            for (size_t t = 1; t < k && complete; t++) {
                pick[t] = NULL;
                for (size_t j = g; j < end && !pick[t]; j++)
                    if (j != i &&
                        strcmp(ps_document_template(docs[keys[j].idx]), ps_rule_namespace(r, t)) == 0)
                        pick[t] = docs[keys[j].idx];
                complete = pick[t] != NULL;
            }
            if (!complete)
                continue;
            cv->documents++;
            ps_status st = ps_rule_eval_cross_tally(r, pick, k, cv->tally, err);
            if (st != PS_OK)
                return st;
        }
        g = end;
    }
    return PS_OK;
}

static ps_status coverage(ps_lint_report *rep, const ps_lint_options *opt, const ps_mapping_set *set,
                          const ps_ruleset *const *sets, ps_error *err)
{
    size_t nrules = 0, nm = ps_mapping_set_count(set);
    for (size_t m = 0; m < nm; m++)
        nrules += ps_ruleset_count(sets[m]);
    covered *cv = calloc(nrules ? nrules : 1, sizeof *cv);
    ps_document **docs = NULL;
    size_t ndocs = 0;
    ps_status st = cv ? PS_OK : ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    size_t n = 0;
    for (size_t m = 0; m < nm && st == PS_OK; m++)
        for (size_t i = 0; i < ps_ruleset_count(sets[m]) && st == PS_OK; i++) {
            const ps_rule *r = ps_ruleset_at(sets[m], i);
            const ps_mapping *mp = ps_mapping_set_at(set, m);
            size_t ni = ps_rule_instance_count(r);
            cv[n] = (covered){r, ps_mapping_id(mp), ps_mapping_path(mp),
                              calloc(ni ? ni : 1, sizeof(ps_rule_tally)), 0};
            if (!cv[n++].tally)
                st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        }
    for (size_t f = 0; f < opt->nfiles && st == PS_OK; f++) {
        ps_workbook *wb = NULL;
        ps_error ferr;
        ps_document **fd = NULL;
        size_t nfd = 0;
        ps_status fs = ps_reader_open(opt->files[f], &opt->limits, &wb, &ferr);
        if (fs == PS_OK)
            fs = ps_mapping_extract_workbook(set, wb, opt->files[f], &fd, &nfd, &ferr);
        ps_workbook_free(wb);
        if (fs == PS_ERR_NOMEM) {
            st = fs;
            *err = ferr;
        } else if (fs != PS_OK) {
            if (!ferr.file[0])
                snprintf(ferr.file, sizeof ferr.file, "%s", opt->files[f]);
            add_error(rep, PS_LINT_INPUT, &ferr);
        }
        for (size_t d = 0; d < nfd && st == PS_OK; d++) {
            ps_document **a = realloc(docs, (ndocs + 1) * sizeof *a);
            if (!a) {
                st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
                break;
            }
            docs = a;
            docs[ndocs++] = fd[d];
            fd[d] = NULL;
            for (size_t i = 0; i < n && st == PS_OK; i++) {
                if (ps_rule_namespace_count(cv[i].r) > 0 ||
                    strcmp(cv[i].mapping_id, ps_document_template(docs[ndocs - 1])) != 0)
                    continue;
                cv[i].documents++;
                st = ps_rule_eval_tally(cv[i].r, docs[ndocs - 1], cv[i].tally, err);
            }
        }
        for (size_t d = 0; d < nfd; d++)
            ps_document_free(fd[d]);
        free(fd);
    }
    unit_doc *keys = st == PS_OK ? malloc((ndocs ? ndocs : 1) * sizeof *keys) : NULL;
    if (st == PS_OK && !keys)
        st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    if (st == PS_OK) {
        size_t nkeys = 0;
        for (size_t i = 0; i < ndocs; i++) {
            const char *u = ps_document_unit(docs[i]);
            if (u && *u)
                keys[nkeys++] = (unit_doc){u, ps_document_year(docs[i]), i};
        }
        qsort(keys, nkeys, sizeof *keys, by_unit);
        for (size_t i = 0; i < n && st == PS_OK; i++)
            if (ps_rule_namespace_count(cv[i].r) > 0)
                st = cover_cross(&cv[i], docs, keys, nkeys, err);
    }
    free(keys);
    for (size_t i = 0; i < n && st == PS_OK; i++) {
        const ps_rule *r = cv[i].r;
        size_t ni = ps_rule_instance_count(r);
        for (size_t b = 0; b < ni; b++) {
            const ps_rule_tally *t = &cv[i].tally[b];
            sbuf label = {0};
            for (size_t v = 0; v < r->vars.nvars; v++)
                sb_printf(&label, "%s%s=%s", v ? "," : "", r->vars.names[v], r->vars.values[v][b]);
            char msg[512];
            if (cv[i].documents == 0) {
                if (ps_rule_namespace_count(r) > 0)
                    snprintf(msg, sizeof msg, "未运行：没有同一单位、同一年度的 %s 与 %s 文档",
                             ps_rule_namespace(r, 0),
                             ps_rule_namespace_count(r) > 1 ? ps_rule_namespace(r, 1) : "");
                else
                    snprintf(msg, sizeof msg, "未运行：没有 %s 模板的文档", cv[i].mapping_id);
            } else {
                snprintf(msg, sizeof msg,
                         "%zu %s：运行 %zu 次（通过 %zu，不通过 %zu），输入为空跳过 %zu 次，when: "
                         "不成立跳过 %zu 次",
                         cv[i].documents, ps_rule_namespace_count(r) > 0 ? "组文档" : "份文档",
                         t->passed + t->failed, t->passed, t->failed, t->blank, t->skipped_when);
            }
            ps_lint_finding *f = add(rep, PS_LINT_COVERAGE, PS_SEV_INFO, cv[i].file, r->line, r->col, r->id,
                                     label.p, "%s", msg);
            if (f) {
                f->documents = cv[i].documents;
                f->passed = t->passed;
                f->failed = t->failed;
                f->blank = t->blank;
                f->skipped_when = t->skipped_when;
            }
            free(label.p);
        }
    }
    for (size_t i = 0; i < ndocs; i++)
        ps_document_free(docs[i]);
    free(docs);
    for (size_t i = 0; cv && i < n; i++)
        free(cv[i].tally);
    free(cv);
    return st;
}

/* ---------------------------------------------------------------- the run */

static int by_place(const void *pa, const void *pb)
{
    const ps_lint_finding *a = pa, *b = pb;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    c = strcmp(a->rule ? a->rule : "", b->rule ? b->rule : "");
    if (c)
        return c;
    c = strcmp(a->instance ? a->instance : "", b->instance ? b->instance : "");
    return c ? c : strcmp(a->message, b->message);
}

static bool make_instances(lctx *x, const ps_mapping_set *set, const ps_ruleset *const *sets)
{
    size_t total = 0, nm = ps_mapping_set_count(set);
    for (size_t m = 0; m < nm; m++)
        for (size_t i = 0; i < ps_ruleset_count(sets[m]); i++)
            total += ps_rule_instance_count(ps_ruleset_at(sets[m], i));
    x->insts = calloc(total ? total : 1, sizeof *x->insts);
    if (!x->insts)
        return false;
    for (size_t m = 0; m < nm; m++) {
        const ps_mapping *mp = ps_mapping_set_at(set, m);
        for (size_t i = 0; i < ps_ruleset_count(sets[m]); i++) {
            const ps_rule *r = ps_ruleset_at(sets[m], i);
            for (size_t b = 0; b < ps_rule_instance_count(r); b++) {
                inst *in = &x->insts[x->ninsts++];
                in->r = r;
                in->mapping_id = ps_mapping_id(mp);
                in->file = ps_mapping_path(mp);
                in->binding = b;
                sbuf label = {0}, c = {0}, t = {0};
                for (size_t v = 0; v < r->vars.nvars; v++)
                    sb_printf(&label, "%s%s=%s", v ? "," : "", r->vars.names[v], r->vars.values[v][b]);
                in->label = r->vars.nvars ? sb_take(&label) : NULL;
                if (!r->nns) { /* a one-document rule is about its own template's documents */
                    sb_puts(&c, in->mapping_id);
                    sb_puts(&c, "|");
                }
                if (r->hier) { /* compared column by column (hierarchy_overlaps), never as a check */
                    sb_printf(&c, "hierarchy:%p", (const void *)r);
                    sb_printf(&t, "hierarchy: %s", r->hier->table);
                }
                canon(&c, r->check, in);
                sb_puts(&c, "|when:");
                canon(&c, r->when, in);
                sb_printf(&c, "|each:%s by %s", r->each_table ? r->each_table : "",
                          r->each_group ? r->each_group : "");
                in->canon = sb_take(&c);
                subst(&t, r->check_text ? r->check_text : "", in);
                in->text = sb_take(&t);
                in->conditional = r->when != NULL;
                if ((r->vars.nvars && !in->label) || !in->canon || !in->text)
                    return false;
            }
        }
    }
    return true;
}

ps_status ps_lint_run(const ps_lint_options *opt, ps_lint_report **out, ps_error *err)
{
    ps_lint_report *rep = calloc(1, sizeof *rep);
    if (!rep)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    ps_mapping_set *set = NULL;
    ps_error lerr;
    ps_status st = ps_mapping_set_load(opt->mapping_dir, &set, &lerr);
    if (st == PS_ERR_NOMEM) {
        *err = lerr;
        ps_lint_report_free(rep);
        return st;
    }
    if (st != PS_OK) {
        add_error(rep, PS_LINT_LOAD, &lerr);
        goto done;
    }
    size_t nm = ps_mapping_set_count(set);
    const ps_ruleset **sets = calloc(nm ? nm : 1, sizeof *sets);
    bool loaded = sets != NULL;
    for (size_t m = 0; sets && m < nm; m++) {
        const ps_mapping *mp = ps_mapping_set_at(set, m);
        sets[m] = ps_mapping_rules(mp); /* compiled, every name resolved, at load */
    }
    if (loaded) {
        lctx x = {.rep = rep};
        if (!make_instances(&x, set, sets))
            x.nomem = true;
        for (size_t i = 0; !x.nomem && i < x.ninsts; i++) {
            inst *in = &x.insts[i];
            if (in->r->hier) { /* no check: its when: alone */
                self_compare(&x, in, in->r->when, true);
                continue;
            }
            constant_check(&x, in);
            in->said = self_compare(&x, in, in->r->check, false) || !reads_field(in->r->check);
            self_compare(&x, in, in->r->when, true);
        }
        if (!x.nomem)
            duplicates(&x);
        if (!x.nomem)
            hierarchy_overlaps(&x);
        if (!x.nomem)
            linear(&x);
        for (size_t i = 0; i < x.ninsts; i++) {
            free(x.insts[i].label);
            free(x.insts[i].canon);
            free(x.insts[i].text);
        }
        free(x.insts);
        rep->nomem |= x.nomem;
        if (rep->n)
            qsort(rep->items, rep->n, sizeof *rep->items, by_place);
        if (!rep->nomem && opt->nfiles > 0 && coverage(rep, opt, set, sets, &lerr) == PS_ERR_NOMEM)
            rep->nomem = true;
    }
    free(sets);
    if (!sets)
        rep->nomem = true;
done:
    ps_mapping_set_free(set);
    if (rep->nomem) {
        ps_lint_report_free(rep);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    *out = rep;
    return PS_OK;
}
