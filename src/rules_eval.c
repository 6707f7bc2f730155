/* rules_eval.c - evaluating compiled rules against documents, and writing findings.
 * Values are blank, numbers, texts or truth values. Blank follows the spreadsheet habit:
 * in + and - it counts as nothing (a blank 公车购置 adds 0), elsewhere it makes the result
 * blank, and a comparison with a blank side is skipped - except that a blank left-hand side
 * of `=` with a non-blank right-hand side is reported (「…表中为空」) unless `blank: skip`.
 * With `blank: zero` a blank input counts 0 wherever a number is used. With a band (尾数误差),
 * a check that fails only by up to the band is a warning. A `hierarchy:` rule checks each
 * parent = Σ its children over the code hierarchy of a table (hierarchy.h). */
#include "rules_int.h"

#include "perfsheet/hierarchy.h"
#include "perfsheet/workbook.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum vkind { V_BLANK = 0, V_NUM, V_TEXT, V_BOOL } vkind;

typedef struct rval {
    vkind k;
    double num;
    const char *text; /* borrowed from a document or the context's pool */
    bool b;
    int terms;           /* summed non-blank terms, for the money tolerance */
    const ps_value *src; /* the document value it came from, if it is one */
    int doc;             /* index of the document of src */
    bool blank0;         /* blank: zero - a blank input read as 0 (still blank to PRESENT, TEXT …) */
} rval;

typedef struct rcell {
    int doc;
    uint16_t sheet; /* in the document (ps_document_sheet_at) */
    uint32_t row, col;
} rcell;

#define MAX_CELLS 256

typedef struct rctx {
    const ps_rule *r;
    ps_document *const *docs;
    size_t ndocs;
    size_t binding; /* index into r->vars, when it has vars */
    /* each: the table, and the rows of the current row or group */
    const ps_table *each_t;
    const size_t *rows;
    size_t nrows;
    /* aggregate filter: the row being tested */
    const ps_table *filter_t;
    size_t filter_row;
    bool in_filter;
    bool in_when; /* evaluating when: - its comparisons are exact */
    /* what was read: cells[0..ncells) */
    size_t ncells;
    bool probing;
    bool probe_found;
    rcell probe;
    const ps_value *probe_src;
    const char *probe_missing; /* the left-hand side's label not found (ps_document_missing_label) */
    /* the first field the check read blank: a finding that has no cell is about it - its blank
     * cell, or what the extraction did not find for it */
    bool blank_seen, blank_has_cell;
    rcell blank_cell;
    const char *blank_missing;
    /* the primary comparison */
    bool have_primary;
    rval lhs, rhs;
    pcre2_match_data *md; /* MATCHES, made on first use */
    char **pool;          /* texts made while evaluating (DIGITS, TEXT of a number) */
    size_t npool, pool_cap;
    bool nomem;
    ps_rule_tally *tally;     /* per for: instance, or NULL: what each run came to (lint) */
    const ps_document *prev;  /* last year's document for previous. keys, or NULL */
    bool prev_exact;          /* prev was found by the exact unit name */
    const ps_value *prev_src; /* the first previous. value the check read (its cell) */
    /* band: 0 off, 1 the check with the band as tolerance, 2 again to the cent (a 尾数误差?) */
    int band_pass;
    bool band_touched; /* a comparison took the band */
    bool band_hit;     /* pass 2: a comparison failed; band_diff its difference (cents) */
    double band_diff;
    rval difference;      /* {difference} of the finding being written */
    const char *relation; /* {relation} and {column} of a hierarchy finding */
    const char *column_label;
    rcell cells[MAX_CELLS]; /* last: only the fields above are zeroed per rule */
} rctx;

static rval blank(void)
{
    rval v = {0};
    return v;
}

static rval num(double d)
{
    rval v = {0};
    v.k = isfinite(d) ? V_NUM : V_BLANK;
    v.num = d;
    return v;
}

/* A blank input under blank: zero. */
static rval zero_blank(void)
{
    rval v = num(0);
    v.blank0 = true;
    return v;
}

static bool is_blank(rval v)
{
    return v.k == V_BLANK || v.blank0;
}

static double half_up(double d, int places);

static rval boolean(bool b)
{
    rval v = {0};
    v.k = V_BOOL;
    v.b = b;
    return v;
}

static const char *pool_add(rctx *c, char *s)
{
    if (s && c->npool == c->pool_cap) {
        size_t cap = c->pool_cap ? c->pool_cap * 2 : 16;
        char **p = realloc(c->pool, cap * sizeof *p);
        if (p) {
            c->pool = p;
            c->pool_cap = cap;
        }
    }
    if (!s || c->npool == c->pool_cap) {
        free(s);
        c->nomem = true;
        return "";
    }
    c->pool[c->npool++] = s;
    return s;
}

static void note_cell(rctx *c, int doc, const ps_value *v)
{
    if (!v || doc < 0 || v->row == PS_NO_CELL || v->col == PS_NO_CELL)
        return;
    if (c->probing && !c->probe_found) {
        c->probe_found = true;
        c->probe = (rcell){doc, v->sheet, v->row, v->col};
        c->probe_src = v;
    }
    for (size_t i = 0; i < c->ncells; i++)
        if (c->cells[i].doc == doc && c->cells[i].sheet == v->sheet && c->cells[i].row == v->row &&
            c->cells[i].col == v->col)
            return;
    if (c->ncells < MAX_CELLS)
        c->cells[c->ncells++] = (rcell){doc, v->sheet, v->row, v->col};
}

/* The first blank field the check reads (not in when:): at, when has_cell, else missing. */
static void note_blank(rctx *c, rcell at, bool has_cell, const char *missing)
{
    if (c->blank_seen || c->in_when)
        return;
    c->blank_seen = true;
    c->blank_has_cell = has_cell;
    c->blank_cell = at;
    c->blank_missing = missing;
}

static bool blank_text(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

static rval from_value(rctx *c, int doc, const ps_value *v)
{
    if (!v)
        return blank();
    note_cell(c, doc, v);
    rval out = {0};
    if (v->has_number && v->type != PS_TYPE_TEXT) {
        out = num(v->number);
    } else if (v->text && !blank_text(v->text)) {
        out.k = V_TEXT;
        out.text = v->text;
    } else if (v->has_number) {
        out = num(v->number);
    } else if (v->raw && !blank_text(v->raw)) {
        out.k = V_TEXT;
        out.text = v->raw;
    } else {
        return blank();
    }
    out.src = v;
    out.doc = doc;
    out.terms = out.k == V_NUM ? 1 : 0;
    return out;
}

/* A name with the current binding's for: values (has_var), into buf. */
static const char *resolve(const rctx *c, const char *key, bool has_var, char *buf, size_t size)
{
    if (!has_var)
        return key;
    ps_rule_subst(c->r, c->binding, key, buf, size);
    return buf;
}

static int ns_index(const rctx *c, const char *ns)
{
    for (size_t i = 0; i < c->r->nns; i++)
        if (strcmp(c->r->ns[i], ns) == 0)
            return (int)i;
    return -1;
}

static rval eval(rctx *c, const rnode *n);

static rval eval_field(rctx *c, const rnode *n)
{
    char buf[256];
    const char *key = resolve(c, n->str, n->has_var, buf, sizeof buf);
    if (!n->ns && strncmp(key, PS_PREVIOUS_PREFIX, strlen(PS_PREVIOUS_PREFIX)) == 0) {
        /* last year's figure: no cell of this year's document */
        const ps_value *v = c->prev ? ps_document_get(c->prev, key + strlen(PS_PREVIOUS_PREFIX)) : NULL;
        if (v && !c->prev_src)
            c->prev_src = v;
        return from_value(c, -1, v);
    }
    if (c->in_filter && !n->ns)
        return from_value(c, 0, ps_table_get(c->filter_t, c->filter_row, key));
    int doc = 0;
    if (n->ns) {
        doc = ns_index(c, n->ns);
        if (doc < 0 || (size_t)doc >= c->ndocs || !c->docs[doc])
            return blank();
    }
    const ps_value *v = ps_document_get(c->docs[doc], key);
    uint32_t row, col;
    size_t sheet = 0;
    if (!v) {
        bool has_cell = ps_document_blank_cell_on(c->docs[doc], key, &sheet, &row, &col);
        const char *missing = has_cell ? NULL : ps_document_missing_label(c->docs[doc], key);
        if (c->probing && !c->probe_found && has_cell) {
            c->probe_found = true; /* a blank total still has a cell to point at */
            c->probe = (rcell){doc, (uint16_t)sheet, row, col};
            c->probe_src = NULL;
        } else if (c->probing && !c->probe_found && !c->probe_missing) {
            c->probe_missing = missing; /* no cell: its label is not in the sheet */
        }
        note_blank(c, (rcell){doc, (uint16_t)sheet, row, col}, has_cell, missing);
    }
    return from_value(c, doc, v);
}

/* A table column outside an aggregate: the current row of an each: rule, or the first
 * non-blank value of the current group. */
static rval eval_col(rctx *c, const rnode *n)
{
    char buf[256];
    const char *col = n->str ? resolve(c, n->str, n->has_var, buf, sizeof buf) : NULL;
    if (!col)
        return blank();
    char tbuf[256];
    const char *table = resolve(c, n->table, n->has_var, tbuf, sizeof tbuf);
    if (c->in_filter && strcmp(ps_table_name(c->filter_t), table) == 0)
        return from_value(c, 0, ps_table_get(c->filter_t, c->filter_row, col));
    if (!c->each_t || strcmp(ps_table_name(c->each_t), table) != 0)
        return blank();
    for (size_t i = 0; i < c->nrows; i++) {
        rval v = from_value(c, 0, ps_table_get(c->each_t, c->rows[i], col));
        if (v.k != V_BLANK)
            return v;
    }
    /* blank in the row (group): a finding about it points at its cell, kept by the extraction */
    char k[320];
    uint32_t row, cl;
    size_t sheet;
    if (c->probing && !c->probe_found && c->nrows > 0 &&
        ps_table_cell_key(k, sizeof k, table, c->rows[0], col) &&
        ps_document_blank_cell_on(c->docs[0], k, &sheet, &row, &cl)) {
        c->probe_found = true;
        c->probe = (rcell){0, (uint16_t)sheet, row, cl};
        c->probe_src = NULL;
    }
    if (c->nrows > 0 && ps_table_cell_key(k, sizeof k, table, c->rows[0], col) &&
        ps_document_blank_cell_on(c->docs[0], k, &sheet, &row, &cl))
        note_blank(c, (rcell){0, (uint16_t)sheet, row, cl}, true, NULL);
    return blank();
}

static bool truth(rval v, bool *known)
{
    *known = true;
    switch (v.k) {
    case V_BOOL: return v.b;
    case V_NUM: return v.num != 0;
    case V_TEXT: return *v.text != '\0';
    case V_BLANK: break;
    }
    *known = false;
    return false;
}

static rval eval_aggregate(rctx *c, const rnode *n)
{
    const rnode *col = n->args[0];
    char tbuf[256];
    const char *table = resolve(c, col->table, col->has_var, tbuf, sizeof tbuf);
    const ps_table *t = ps_document_table(c->docs[0], table);
    bool zero = c->r->blank_zero;
    if (!t)
        return n->fn == F_COUNT ? num(0) : zero ? zero_blank() : blank();
    char buf[256];
    const char *key = col->str ? resolve(c, col->str, col->has_var, buf, sizeof buf) : NULL;
    /* inside a grouped each: over the same table, only the group's rows */
    bool group = c->each_t && c->r->each_group && strcmp(ps_table_name(c->each_t), table) == 0;
    size_t total = group ? c->nrows : ps_table_row_count(t);
    double acc = 0;
    size_t count = 0;
    int terms = 0;
    for (size_t i = 0; i < total; i++) {
        size_t row = group ? c->rows[i] : i;
        if (n->where) {
            const ps_table *ft = c->filter_t;
            size_t fr = c->filter_row;
            bool fin = c->in_filter;
            c->filter_t = t;
            c->filter_row = row;
            c->in_filter = true;
            bool probing = c->probing;
            c->probing = false;
            bool known;
            bool keep = truth(eval(c, n->where), &known);
            c->probing = probing;
            c->filter_t = ft;
            c->filter_row = fr;
            c->in_filter = fin;
            if (!known || !keep)
                continue;
        }
        if (!key) { /* COUNT(T[]) counts rows */
            count++;
            continue;
        }
        rval v = from_value(c, 0, ps_table_get(t, row, key));
        if (n->fn == F_COUNT) {
            count += v.k != V_BLANK;
            continue;
        }
        if (v.k == V_BLANK && zero)
            v = zero_blank();
        if (v.k != V_NUM)
            continue;
        if (n->fn == F_SUM)
            acc += v.num;
        else if (count == 0 || (n->fn == F_MIN ? v.num < acc : v.num > acc))
            acc = v.num;
        count++;
        terms++;
    }
    if (n->fn == F_COUNT)
        return num((double)count);
    if (count == 0)
        return zero ? zero_blank() : blank();
    rval out = num(acc);
    out.terms = n->fn == F_SUM ? terms : 1;
    return out;
}

static char *fmt_number(double d)
{
    char buf[64];
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(buf, sizeof buf, "%.0f", d + 0.0);
    else
        snprintf(buf, sizeof buf, "%.10g", d);
    return strdup(buf);
}

static const char *as_text(rctx *c, rval v)
{
    if (v.blank0)
        return NULL;
    if (v.k == V_TEXT)
        return v.text;
    if (v.k == V_NUM)
        return pool_add(c, fmt_number(v.num));
    if (v.k == V_BOOL)
        return v.b ? "true" : "false";
    return NULL;
}

static rval text_val(const char *s)
{
    rval v = {0};
    v.k = V_TEXT;
    v.text = s;
    return v;
}

/* A number typed as text ("1202.70", " 98 ") or NAN. */
static double text_number(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    double d = strtod(s, &end);
    if (end == s)
        return NAN;
    while (isspace((unsigned char)*end))
        end++;
    return *end ? NAN : d;
}

static rval eval_call(rctx *c, const rnode *n)
{
    switch (n->fn) {
    case F_SUM:
    case F_COUNT: return eval_aggregate(c, n);
    case F_MIN:
    case F_MAX: {
        if (n->nargs == 1 && n->args[0]->kind == N_COL)
            return eval_aggregate(c, n);
        rval best = blank();
        for (size_t i = 0; i < n->nargs; i++) {
            rval v = eval(c, n->args[i]);
            if (v.k == V_NUM && (best.k == V_BLANK || (n->fn == F_MIN ? v.num < best.num : v.num > best.num)))
                best = v;
        }
        return best;
    }
    case F_ABS: {
        rval v = eval(c, n->args[0]);
        if (v.k == V_NUM)
            v.num = fabs(v.num);
        return v.k == V_NUM ? v : blank();
    }
    case F_ROUND: {
        rval v = eval(c, n->args[0]);
        rval d = n->nargs > 1 ? eval(c, n->args[1]) : num(0);
        if (v.k != V_NUM || d.k != V_NUM || fabs(d.num) > 15)
            return blank();
        double f = pow(10, floor(d.num));
        rval out = num(round(v.num * f) / f);
        out.terms = v.terms;
        out.src = v.src;
        out.doc = v.doc;
        return out;
    }
    case F_COALESCE: {
        rval last = blank();
        for (size_t i = 0; i < n->nargs; i++) {
            rval v = eval(c, n->args[i]);
            if (!is_blank(v))
                return v;
            last = v;
        }
        return last; /* all blank: blank, or 0 under blank: zero */
    }
    case F_PRESENT:
    case F_BLANK: {
        rval v = eval(c, n->args[0]);
        return boolean(!is_blank(v) == (n->fn == F_PRESENT));
    }
    case F_MATCHES: {
        rval v = eval(c, n->args[0]);
        const char *s = as_text(c, v);
        if (!s)
            return blank();
        const pcre2_code *re = n->re ? n->re : c->binding < n->nres ? n->res[c->binding] : NULL;
        pcre2_code *own = NULL;
        if (!re) { /* a pattern computed per document: compiled here, blank when invalid */
            const char *ps = as_text(c, eval(c, n->args[1]));
            int code;
            PCRE2_SIZE at;
            if (!ps ||
                !(own = pcre2_compile((PCRE2_SPTR)ps, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL)))
                return blank();
            re = own;
        }
        if (!c->md && !(c->md = pcre2_match_data_create(1, NULL))) {
            pcre2_code_free(own);
            c->nomem = true;
            return blank();
        }
        int rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, c->md, NULL);
        pcre2_code_free(own);
        if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
            return blank(); /* e.g. a text that is not UTF-8 */
        return boolean(rc >= 0);
    }
    case F_DIGITS: { /* the digits as typed: the raw text of the cell when there is one */
        rval v = eval(c, n->args[0]);
        const char *s = v.src && v.src->raw ? v.src->raw : as_text(c, v);
        if (!s)
            return blank();
        size_t len = strlen(s);
        char *d = malloc(len + 1), *o = d;
        if (!d) {
            c->nomem = true;
            return blank();
        }
        /* the first run of ASCII digits */
        const char *p = s;
        while (*p && !isdigit((unsigned char)*p))
            p++;
        while (isdigit((unsigned char)*p))
            *o++ = *p++;
        *o = '\0';
        if (!*d) {
            free(d);
            return blank();
        }
        rval out = text_val(pool_add(c, d));
        out.src = v.src;
        out.doc = v.doc;
        return out;
    }
    case F_TEXT: {
        rval v = eval(c, n->args[0]);
        const char *s = as_text(c, v);
        if (!s)
            return blank();
        rval out = text_val(s);
        out.src = v.src;
        out.doc = v.doc;
        return out;
    }
    case F_NUMBER: {
        rval v = eval(c, n->args[0]);
        if (v.k == V_NUM)
            return v;
        if (v.k != V_TEXT)
            return blank();
        rval out = num(text_number(v.text));
        out.src = v.src;
        out.doc = v.doc;
        return out;
    }
    case F_IF:
        for (size_t i = 0; i + 1 < n->nargs; i += 2) {
            bool known;
            bool t = truth(eval(c, n->args[i]), &known);
            if (!known)
                return blank();
            if (t)
                return eval(c, n->args[i + 1]);
        }
        return n->nargs % 2 ? eval(c, n->args[n->nargs - 1]) : blank();
    case F_YEAR: {
        rval v = eval(c, n->args[0]);
        if (v.blank0)
            return blank();
        if (v.k == V_NUM)
            return num(floor(v.num));
        if (v.k != V_TEXT)
            return blank();
        const char *s = v.text;
        while (*s && !isdigit((unsigned char)*s))
            s++;
        if (!(isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
              isdigit((unsigned char)s[3])) ||
            isdigit((unsigned char)s[4]))
            return blank();
        return num((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    }
    case F_THIS_YEAR: {
        time_t now = time(NULL);
        struct tm tm;
        if (!localtime_r(&now, &tm))
            return blank();
        return num(tm.tm_year + 1900);
    }
    case F_IN: {
        rval v = eval(c, n->args[0]);
        if (is_blank(v))
            return blank();
        const char *s = as_text(c, v);
        for (size_t i = 1; i < n->nargs; i++) {
            rval o = eval(c, n->args[i]);
            const char *t = as_text(c, o);
            if (v.k == V_NUM && o.k == V_NUM ? v.num == o.num : (s && t && strcmp(s, t) == 0))
                return boolean(true);
        }
        return boolean(false);
    }
    case F_LEN: {
        rval v = eval(c, n->args[0]);
        const char *s = as_text(c, v);
        if (!s)
            return blank();
        size_t chars = 0;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            chars += (*p & 0xC0) != 0x80;
        return num((double)chars);
    }
    case F_RAW: { /* the cell's text as typed: raw, else a text cell's text; blank for a number */
        rval v = eval(c, n->args[0]);
        const char *s = !v.src                                              ? NULL
                        : v.src->raw && *v.src->raw                         ? v.src->raw
                        : !v.src->has_number && v.src->text && *v.src->text ? v.src->text
                                                                            : NULL;
        if (!s)
            return blank();
        rval out = text_val(s);
        out.src = v.src;
        out.doc = v.doc;
        return out;
    }
    case F_FORMULA: {
        rval v = eval(c, n->args[0]);
        return v.src ? boolean(v.src->formula) : blank();
    }
    }
    return blank();
}

/* Half a unit of the last displayed digit of a rate shown as a percentage with d decimals. */
static double rate_tolerance(const ps_value *src)
{
    int d = src && src->decimals != 255 ? src->decimals : 2;
    if (d > 10)
        d = 10;
    return 0.5 * pow(10, -(d + 2));
}

static double tolerance(const rctx *c, rval l, rval r)
{
    rtol_kind k = c->r->tol;
    if (c->in_when) /* a condition for running is not a check: no 尾数误差 */
        return 0;
    if (k == TOL_FIXED)
        return c->r->tol_value;
    if (k == TOL_AUTO) {
        ps_field_type t = l.src ? l.src->type : PS_TYPE_NUMBER;
        k = t == PS_TYPE_FRACTION                     ? TOL_RATE
            : (t == PS_TYPE_INT || t == PS_TYPE_YEAR) ? TOL_FIXED
                                                      : TOL_MONEY;
        if (k == TOL_FIXED)
            return 0;
    }
    if (k == TOL_RATE)
        return rate_tolerance(l.src);
    return (c->r->tol_per_term > 0 ? c->r->tol_per_term : 0.01) * (r.terms > 1 ? r.terms : 1);
}

static const char *trimmed(const char *s, size_t *len)
{
    while (*s == ' ')
        s++;
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ')
        n--;
    *len = n;
    return s;
}

/* Is this comparison one a band applies to: money (the tolerance the rule would use)? */
static bool money_comparison(const rctx *c, rval l)
{
    if (c->r->tol == TOL_MONEY)
        return true;
    if (c->r->tol != TOL_AUTO)
        return false;
    ps_field_type t = l.src ? l.src->type : PS_TYPE_NUMBER;
    return t != PS_TYPE_FRACTION && t != PS_TYPE_INT && t != PS_TYPE_YEAR;
}

/* a op b with the band: the difference to the cent, 0 passes; pass 1 allows up to the band. */
static rval band_compare(rctx *c, int op, double a, double b)
{
    double d = half_up(a - b, 2);
    double lim = (c->band_pass == 1 ? c->r->band : 0) + 1e-9;
    bool ok = op == T_EQ ? fabs(d) <= lim : op == T_LE ? d <= lim : d >= -lim;
    c->band_touched = true;
    if (c->band_pass == 2 && !ok && !c->band_hit) {
        c->band_hit = true;
        c->band_diff = d;
    }
    return boolean(ok);
}

static rval compare(rctx *c, int op, rval l, rval r)
{
    if (l.k == V_BLANK || r.k == V_BLANK)
        return blank();
    if ((l.blank0 && r.k == V_TEXT) || (r.blank0 && l.k == V_TEXT))
        return blank(); /* a blank against a text: no number to count as 0 */
    double a = NAN, b = NAN;
    if (l.k == V_NUM && r.k == V_NUM) {
        a = l.num;
        b = r.num;
    } else if (l.k == V_NUM && r.k == V_TEXT) {
        a = l.num;
        b = text_number(r.text);
    } else if (l.k == V_TEXT && r.k == V_NUM) {
        a = text_number(l.text);
        b = r.num;
    }
    if (l.k == V_BOOL || r.k == V_BOOL) {
        bool k1, k2;
        bool x = truth(l, &k1), y = truth(r, &k2);
        if (op == T_EQ)
            return boolean(x == y);
        if (op == T_NE)
            return boolean(x != y);
        return blank();
    }
    if (l.k == V_TEXT && r.k == V_TEXT) {
        size_t la, lb;
        const char *x = trimmed(l.text, &la), *y = trimmed(r.text, &lb);
        int cmp = strncmp(x, y, la < lb ? la : lb);
        if (cmp == 0)
            cmp = la < lb ? -1 : la > lb ? 1 : 0;
        switch (op) {
        case T_EQ: return boolean(cmp == 0);
        case T_NE: return boolean(cmp != 0);
        case T_LT: return boolean(cmp < 0);
        case T_LE: return boolean(cmp <= 0);
        case T_GT: return boolean(cmp > 0);
        case T_GE: return boolean(cmp >= 0);
        }
        return blank();
    }
    if (isnan(a) || isnan(b)) /* a text that is no number against a number */
        return op == T_EQ ? boolean(false) : op == T_NE ? boolean(true) : blank();
    if (c->band_pass && !c->in_when && (op == T_EQ || op == T_LE || op == T_GE) && money_comparison(c, l))
        return band_compare(c, op, a, b);
    double tol = tolerance(c, l, r) + 1e-9 * (1 + fabs(a) + fabs(b));
    switch (op) {
    case T_EQ: return boolean(fabs(a - b) <= tol);
    case T_NE: return boolean(fabs(a - b) > tol);
    case T_LT: return boolean(a < b);
    case T_LE: return boolean(a <= b + tol);
    case T_GT: return boolean(a > b);
    case T_GE: return boolean(a >= b - tol);
    }
    return blank();
}

static rval arith(int op, rval l, rval r)
{
    if (l.k == V_TEXT || l.k == V_BOOL)
        l = blank();
    if (r.k == V_TEXT || r.k == V_BOOL)
        r = blank();
    if (op == '+' || op == '-') {
        if (l.k == V_BLANK && r.k == V_BLANK)
            return blank();
        double a = l.k == V_NUM ? l.num : 0, b = r.k == V_NUM ? r.num : 0;
        rval out = num(op == '+' ? a + b : a - b);
        out.terms = l.terms + r.terms;
        out.blank0 = l.blank0 && r.blank0;
        return out;
    }
    if (l.k == V_BLANK || r.k == V_BLANK)
        return blank();
    if (op == '/' && r.num == 0)
        return blank();
    rval out = num(op == '*' ? l.num * r.num : l.num / r.num);
    out.terms = l.terms > r.terms ? l.terms : r.terms;
    out.blank0 = l.blank0 && r.blank0;
    return out;
}

static rval eval(rctx *c, const rnode *n)
{
    switch (n->kind) {
    case N_NUM: return num(n->num);
    case N_STR:
        if (n->has_var) { /* WHERE code = "{c}" */
            size_t need = ps_rule_subst(c->r, c->binding, n->str, NULL, 0);
            char *t = malloc(need + 1);
            if (t)
                ps_rule_subst(c->r, c->binding, n->str, t, need + 1);
            return text_val(pool_add(c, t));
        }
        return text_val(n->str);
    case N_FIELD:
    case N_COL: {
        rval v = n->kind == N_FIELD ? eval_field(c, n) : eval_col(c, n);
        return v.k == V_BLANK && c->r->blank_zero ? zero_blank() : v;
    }
    case N_NEG: {
        rval v = eval(c, n->args[0]);
        if (v.k != V_NUM)
            return blank();
        v.num = -v.num;
        v.src = NULL;
        return v;
    }
    case N_NOT: {
        bool known;
        bool t = truth(eval(c, n->args[0]), &known);
        return known ? boolean(!t) : blank();
    }
    case N_AND:
    case N_OR: {
        bool k1, k2;
        bool a = truth(eval(c, n->args[0]), &k1);
        bool b = truth(eval(c, n->args[1]), &k2);
        if (n->kind == N_AND) {
            if ((k1 && !a) || (k2 && !b))
                return boolean(false);
            return k1 && k2 ? boolean(true) : blank();
        }
        if ((k1 && a) || (k2 && b))
            return boolean(true);
        return k1 && k2 ? boolean(false) : blank();
    }
    case N_ARITH: { /* left first: the order of the finding's cells */
        rval l = eval(c, n->args[0]);
        rval r = eval(c, n->args[1]);
        return arith(n->op, l, r);
    }
    case N_CMP: {
        bool primary = n == c->r->primary && !c->have_primary;
        bool was = c->probing;
        if (primary) {
            c->probing = true;
            c->probe_found = false;
        }
        rval l = eval(c, n->args[0]);
        c->probing = was;
        rval r = eval(c, n->args[1]);
        if (primary) {
            c->have_primary = true;
            c->lhs = l;
            c->rhs = r;
        }
        return compare(c, n->op, l, r);
    }
    case N_CALL: return eval_call(c, n);
    }
    return blank();
}

/* ---------------------------------------------------------------- findings */

static void append(char *buf, size_t size, size_t *o, const char *s, size_t n)
{
    if (*o >= size)
        return;
    if (n > size - 1 - *o) { /* cut at a UTF-8 boundary */
        n = size - 1 - *o;
        while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(buf + *o, s, n);
    *o += n;
    buf[*o] = '\0';
}

static rfmt default_fmt(const ps_value *src)
{
    if (!src)
        return FMT_NUM;
    switch (src->type) {
    case PS_TYPE_MONEY: return FMT_MONEY;
    case PS_TYPE_FRACTION: return FMT_PERCENT;
    case PS_TYPE_INT:
    case PS_TYPE_YEAR: return FMT_INT;
    case PS_TYPE_NUMBER: return FMT_NUM;
    default: return FMT_TEXT;
    }
}

/* d rounded half away from zero to `places` decimals, as people round figures (0.125 -> 0.13,
 * 1.005 -> 1.01 although 1.005 is 1.00499… in binary); never -0. */
static double half_up(double d, int places)
{
    double f = pow(10, places);
    double x = d * f;
    double r = round(x + (x >= 0 ? 1e-7 : -1e-7)) / f;
    return r == 0 ? 0.0 : r;
}

static void format_value(rval v, rfmt f, const ps_value *type_src, char *out, size_t size)
{
    if (f == FMT_RAW && v.src && v.src->raw) {
        snprintf(out, size, "%s", v.src->raw);
        return;
    }
    if (v.k == V_BLANK) {
        snprintf(out, size, "空");
        return;
    }
    if (v.k == V_TEXT) {
        snprintf(out, size, "%s", v.text);
        return;
    }
    if (v.k == V_BOOL) {
        snprintf(out, size, "%s", v.b ? "是" : "否");
        return;
    }
    if (f == FMT_AUTO || f == FMT_TEXT || f == FMT_RAW)
        f = default_fmt(v.src ? v.src : type_src);
    double d = v.num;
    switch (f) {
    case FMT_MONEY: snprintf(out, size, "%.2f", half_up(d, 2)); break;
    case FMT_PERCENT: snprintf(out, size, "%.2f%%", half_up(d * 100, 2)); break;
    case FMT_INT: snprintf(out, size, "%.0f", half_up(d, 0)); break;
    default: {
        snprintf(out, size, "%.2f", half_up(d, 2));
        char *dot = strchr(out, '.');
        if (dot) {
            char *e = out + strlen(out);
            while (e > dot + 1 && e[-1] == '0')
                *--e = '\0';
            if (e == dot + 1)
                *dot = '\0';
        }
        if (strcmp(out, "-0") == 0)
            snprintf(out, size, "0");
    }
    }
}

/* Expands a compiled message: literal text, {expected}, {actual}, {id}, for: variables, fields,
 * T[].col - each name resolved when the mapping was loaded. */
static void render(rctx *c, const rmsg *m, rval expected, rval actual, const ps_value *lhs_src, char *out,
                   size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->nparts; i++) {
        const rpart *p = &m->parts[i];
        char val[512];
        switch (p->kind) {
        case P_TEXT: append(out, size, &o, p->text, strlen(p->text)); continue;
        case P_EXPECTED: format_value(expected, p->fmt, lhs_src, val, sizeof val); break;
        case P_ACTUAL: format_value(actual, p->fmt, lhs_src, val, sizeof val); break;
        case P_ID: snprintf(val, sizeof val, "%s", c->r->id); break;
        case P_DIFFERENCE: format_value(c->difference, p->fmt, lhs_src, val, sizeof val); break;
        case P_RELATION: snprintf(val, sizeof val, "%s", c->relation ? c->relation : ""); break;
        case P_COLUMN: snprintf(val, sizeof val, "%s", c->column_label ? c->column_label : ""); break;
        case P_VAR:
            snprintf(val, sizeof val, "%s",
                     c->binding < c->r->vars.count ? c->r->vars.values[p->var][c->binding] : "");
            break;
        case P_FIELD:
        case P_COL: {
            bool probing = c->probing;
            c->probing = false;
            size_t ncells = c->ncells;
            rnode tmp = {0};
            tmp.kind = p->kind == P_COL ? N_COL : N_FIELD;
            tmp.str = p->text;
            tmp.ns = p->ns;
            tmp.table = p->table;
            tmp.has_var = p->has_var;
            if (p->kind == P_FIELD && c->r->hier && c->each_t && c->nrows == 1 &&
                (p->hier_col || ps_table_get(c->each_t, c->rows[0], p->text))) {
                tmp.kind = N_COL; /* a hierarchy rule's {name}: the column of the parent's row */
                tmp.table = (char *)ps_table_name(c->each_t);
            }
            rval v = tmp.kind == N_COL ? eval_col(c, &tmp) : eval_field(c, &tmp);
            c->ncells = ncells; /* a field only named in the message is not an input */
            c->probing = probing;
            format_value(v, p->fmt, NULL, val, sizeof val);
            break;
        }
        }
        append(out, size, &o, val, strlen(val));
    }
}

/* The decimals a figure about the cell src carries in a finding: what the cell displays, at
 * least what its type shows - money 2, a rate the percentage's decimals (at least 2) + 2, int and
 * year 0, other numbers 2; 6 when no cell says (the float noise of 6866.929999999999 goes). */
static int finding_places(const ps_value *src)
{
    if (!src)
        return 6;
    int d = src->decimals != 255 ? src->decimals : -1;
    int p;
    switch (src->type) {
    case PS_TYPE_MONEY: p = d > 2 ? d : 2; break;
    case PS_TYPE_FRACTION: p = (d > 2 ? d : 2) + 2; break;
    case PS_TYPE_INT:
    case PS_TYPE_YEAR: p = d > 0 ? d : 0; break;
    case PS_TYPE_NUMBER:
    case PS_TYPE_TARGET: p = d > 2 ? d : 2; break;
    default: p = 6; break;
    }
    return p > 10 ? 10 : p;
}

static void set_scalar(ps_finding *f, rval v, bool expected, int places)
{
    if (v.k == V_NUM) {
        double d = fabs(v.num) < 1e15 ? half_up(v.num, places) : v.num;
        if (expected)
            ps_finding_set_expected_number(f, d);
        else
            ps_finding_set_actual_number(f, d);
    } else if (v.k == V_TEXT) {
        if (expected)
            ps_finding_set_expected_text(f, v.text);
        else
            ps_finding_set_actual_text(f, v.text);
    }
}

/* Runs the rule once in the current context; adds a finding when it fails. */
/* Whether the rule's when: holds (true when it has none); exact, never within a tolerance. The
 * cells it read are not the finding's. */
static bool when_holds(rctx *c)
{
    if (!c->r->when)
        return true;
    bool known;
    c->in_when = true;
    bool go = truth(eval(c, c->r->when), &known);
    c->in_when = false;
    c->ncells = 0;
    return known && go;
}

static ps_status run_once(rctx *c, ps_error *err)
{
    const ps_rule *r = c->r;
    c->ncells = 0;
    c->have_primary = false;
    c->probe_found = false;
    c->probe_src = NULL;
    c->probe_missing = NULL;
    c->probing = false;
    c->blank_seen = false;
    ps_status st = PS_OK;
    bool fail = false, blank_lhs = false;

    if (!when_holds(c)) {
        if (c->tally)
            c->tally[c->binding].skipped_when++;
        goto done;
    }
    c->prev_src = NULL;
    c->blank_seen = false;
    c->band_pass = r->has_band ? 1 : 0;
    c->band_touched = c->band_hit = false;
    bool known, band_warning = false;
    bool ok = truth(eval(c, r->check), &known);
    if (known && ok && c->band_touched) {
        /* it holds within the band: to the cent, is it a 尾数误差? */
        c->ncells = 0;
        c->have_primary = false;
        c->probe_found = false;
        c->probe_src = NULL;
        c->prev_src = NULL;
        c->band_pass = 2;
        bool known2;
        bool ok2 = truth(eval(c, r->check), &known2);
        if (known2 && !ok2 && c->band_hit)
            ok = false, band_warning = true;
    }
    c->band_pass = 0;
    const ps_value *prev_src = c->prev_src;
    if (known) {
        fail = !ok;
    } else if (c->have_primary && r->blank_report && r->primary->op == T_EQ && c->lhs.k == V_BLANK &&
               c->rhs.k != V_BLANK) {
        fail = blank_lhs = true;
    }
    if (c->tally) {
        ps_rule_tally *t = &c->tally[c->binding];
        *(fail ? &t->failed : known ? &t->passed : &t->blank) += 1;
    }
    if (!fail)
        goto done;

    rcell lhs_cell = c->probe;
    bool have_cell = c->probe_found;
    /* before expected:, actual: and at: read more */
    const char *probe_missing = c->probe_missing, *blank_missing = c->blank_missing;
    bool blank_seen = c->blank_seen, blank_has_cell = c->blank_has_cell;
    rcell blank_at = c->blank_cell;
    const ps_value *lhs_src = c->probe_src;
    rval expected = c->have_primary ? c->rhs : blank();
    rval actual = c->have_primary ? c->lhs : blank();
    if (!have_cell && c->ncells > 0 && !blank_lhs) { /* a blank total of unknown cell: none */
        lhs_cell = c->cells[0];
        have_cell = true;
    }
    size_t ncells = c->ncells;
    rcell cells[MAX_CELLS];
    memcpy(cells, c->cells, ncells * sizeof cells[0]);
    if (r->expected)
        expected = eval(c, r->expected);
    if (r->actual) {
        rval a = eval(c, r->actual);
        if (!lhs_src && a.src)
            lhs_src = a.src;
        actual = a;
    }
    if (r->at) { /* at: the finding points at this cell; expected and actual stay as they are */
        c->probing = true;
        c->probe_found = false;
        (void)eval(c, r->at);
        c->probing = false;
        if (c->probe_found) { /* else (no cell recorded for it) the left-hand side's, as without at: */
            lhs_cell = c->probe;
            have_cell = true;
        }
    }
    /* no cell yet: the first blank field the check read (PRESENT(total.score)) has one, or its
     * label is not in the sheet - then there is no cell to point at, and the message says why */
    const char *missing = NULL;
    if (!have_cell && blank_lhs && probe_missing)
        missing = probe_missing;
    else if (!have_cell && blank_seen && blank_has_cell) {
        lhs_cell = blank_at;
        have_cell = true;
    } else if (!have_cell && blank_seen)
        missing = blank_missing;
    int doc = have_cell ? lhs_cell.doc : (c->have_primary && c->lhs.src ? c->lhs.doc : 0);
    if ((size_t)doc >= c->ndocs || !c->docs[doc])
        doc = 0;
    ps_document *d = c->docs[doc];

    ps_severity sev = band_warning ? PS_SEV_WARNING : r->severity;
    bool stale = r->computed && lhs_src && lhs_src->formula && !blank_lhs;
    const rmsg *tpl = &r->msg;
    if (blank_lhs && r->blank_message)
        tpl = &r->blank_msg;
    if (stale) {
        sev = PS_SEV_WARNING;
        if (r->formula_message)
            tpl = &r->formula_msg;
    }
    char msg[2048];
    c->difference = band_warning                               ? num(c->band_diff)
                    : expected.k == V_NUM && actual.k == V_NUM ? num(actual.num - expected.num)
                                                               : blank();
    render(c, tpl, expected, actual, lhs_src ? lhs_src : (c->have_primary ? c->lhs.src : NULL), msg,
           sizeof msg);
    if (band_warning) {
        char note[96];
        snprintf(note, sizeof note, "（尾数误差 %.2f）", half_up(c->band_diff, 2));
        size_t o = strlen(msg);
        append(msg, sizeof msg, &o, note, strlen(note));
    }
    if (stale && !r->formula_message) {
        size_t o = strlen(msg);
        append(msg, sizeof msg, &o, "（公式结果未更新）", strlen("（公式结果未更新）"));
    }
    if (missing) {
        char note[600];
        size_t o = strlen(msg);
        snprintf(note, sizeof note, "（未找到%s）", missing);
        append(msg, sizeof msg, &o, note, strlen(note));
    }
    if (c->prev) { /* where last year's figure came from, and how its unit was matched */
        char note[1024], ref[16];
        size_t o = strlen(msg);
        const char *pcell = prev_src && prev_src->row != PS_NO_CELL
                                ? ps_cell_ref(prev_src->row, prev_src->col, ref, sizeof ref)
                                : NULL;
        snprintf(note, sizeof note, "（上年：%s%s%s%s%s）", ps_document_file(c->prev),
                 ps_document_sheet(c->prev) ? " " : "",
                 ps_document_sheet(c->prev) ? ps_document_sheet(c->prev) : "", pcell ? " " : "",
                 pcell ? pcell : "");
        append(msg, sizeof msg, &o, note, strlen(note));
        if (!c->prev_exact) {
            snprintf(note, sizeof note, "（单位名称与上年的“%s”不完全一致：按县/区/市之差匹配）",
                     ps_document_unit(c->prev) ? ps_document_unit(c->prev) : "");
            append(msg, sizeof msg, &o, note, strlen(note));
        }
    }
    char a1[16];
    const char *cell = have_cell ? ps_cell_ref(lhs_cell.row, lhs_cell.col, a1, sizeof a1) : NULL;
    /* the finding is on the left-hand side's sheet; a cell involved on another sheet of the same
     * document (a multi-sheet template) is written 公开03表!C7 */
    size_t fsheet = have_cell ? lhs_cell.sheet : 0;
    const char *fsheet_name =
        ps_document_sheet_at(d, fsheet) ? ps_document_sheet_at(d, fsheet) : ps_document_sheet(d);
    ps_finding *f =
        ps_findings_add(ps_document_findings(d), r->id, sev, ps_document_file(d), fsheet_name, cell, msg);
    if (!f)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    if (cell && !ps_finding_add_cell(f, cell))
        st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    for (size_t i = 0; st == PS_OK && i < ncells; i++) {
        if (cells[i].doc != doc || (have_cell && cells[i].sheet == lhs_cell.sheet &&
                                    cells[i].row == lhs_cell.row && cells[i].col == lhs_cell.col))
            continue;
        char ref[16], qualified[320];
        const char *a = ps_cell_ref(cells[i].row, cells[i].col, ref, sizeof ref);
        if (cells[i].sheet != fsheet && ps_document_sheet_at(d, cells[i].sheet)) {
            snprintf(qualified, sizeof qualified, "%s!%s", ps_document_sheet_at(d, cells[i].sheet), ref);
            a = qualified;
        }
        if (!ps_finding_add_cell(f, a))
            st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    int places = finding_places(lhs_src ? lhs_src : (c->have_primary ? c->lhs.src : NULL));
    set_scalar(f, expected, true, places);
    set_scalar(f, actual, false, places);
done:
    for (size_t i = 0; i < c->npool; i++)
        free(c->pool[i]);
    c->npool = 0;
    if (st == PS_OK && c->nomem)
        st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    c->nomem = false;
    return st;
}

/* ---------------------------------------------------------------- hierarchy: */

/* The text of a code cell as typed (a number written without decimals). */
static const char *code_text(const ps_value *v, char *buf, size_t size)
{
    if (!v)
        return NULL;
    if (v->text && *v->text)
        return v->text;
    if (v->raw && *v->raw)
        return v->raw;
    if (v->has_number && v->number >= 0 && v->number < 1e15 && v->number == floor(v->number)) {
        snprintf(buf, size, "%.0f", v->number);
        return buf;
    }
    return NULL;
}

/* The text without spaces (ASCII, U+3000): 「合  计」 is 合计. */
static void squeezed(const char *s, char *out, size_t size)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && o + 1 < size;) {
        if (isspace(*p)) {
            p++;
        } else if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) {
            p += 3;
        } else {
            out[o++] = (char)*p++;
        }
    }
    out[o] = '\0';
}

static const char *level_name(int level)
{
    static const char *const names[] = {"合计", "类", "款", "项"};
    return level >= 0 && level <= 3 ? names[level] : "下级";
}

/* 「合计 = Σ 类」, 「21015 = Σ 项」: the parent and the level of its children. */
static void relation_text(const ps_hierarchy *h, const ps_table *t, const char *code_col, size_t p, char *out,
                          size_t size)
{
    char name[128], buf[32];
    if (ps_hierarchy_level(h, p) == 0)
        squeezed(code_text(ps_table_get(t, p, code_col), buf, sizeof buf), name, sizeof name);
    else
        snprintf(name, sizeof name, "%s", ps_hierarchy_code(h, p));
    int level = ps_hierarchy_level(h, ps_hierarchy_child(h, p, 0));
    for (size_t k = 1; k < ps_hierarchy_child_count(h, p); k++)
        if (ps_hierarchy_level(h, ps_hierarchy_child(h, p, k)) != level)
            level = -1; /* a missing level: 款 and 项 side by side */
    snprintf(out, size, "%s = Σ %s", name, level_name(level));
}

/* The cell of column col on table row i: its value's, or the blank cell the extraction kept. */
static bool table_cell_at(const ps_document *d, const ps_table *t, size_t i, const char *col, rcell *out)
{
    const ps_value *v = ps_table_get(t, i, col);
    if (v && v->row != PS_NO_CELL && v->col != PS_NO_CELL) {
        *out = (rcell){0, v->sheet, v->row, v->col};
        return true;
    }
    char k[320];
    uint32_t row, cl;
    size_t sheet;
    if (ps_table_cell_key(k, sizeof k, ps_table_name(t), i, col) &&
        ps_document_blank_cell_on(d, k, &sheet, &row, &cl)) {
        *out = (rcell){0, (uint16_t)sheet, row, cl};
        return true;
    }
    return false;
}

/* One parent whose figure is not the sum of its children's, as a finding. */
static ps_status hierarchy_finding(rctx *c, const ps_hierarchy *h, const ps_table *t, size_t p, size_t k,
                                   rval expected, rval actual, double diff, ps_severity sev, ps_error *err)
{
    const ps_rule *r = c->r;
    const rhier *hr = r->hier;
    const char *col = hr->cols[k];
    ps_document *d = c->docs[0];
    char relation[200], msg[2048];
    relation_text(h, t, hr->code, p, relation, sizeof relation);
    const ps_value *psrc = ps_table_get(t, p, col), *typesrc = psrc;
    for (size_t i = 0; !typesrc && i < ps_hierarchy_child_count(h, p); i++)
        typesrc = ps_table_get(t, ps_hierarchy_child(h, p, i), col);
    c->relation = relation;
    c->column_label = hr->labels[k] ? hr->labels[k] : col;
    c->difference = num(diff);
    c->each_t = t;
    c->rows = &p;
    c->nrows = 1;
    render(c, &r->msg, expected, actual, typesrc, msg, sizeof msg);
    c->each_t = NULL;
    c->rows = NULL;
    c->nrows = 0;
    if (sev == PS_SEV_WARNING && fabs(diff) <= r->band + 1e-9) {
        char note[96];
        snprintf(note, sizeof note, "（尾数误差 %.2f）", diff);
        size_t o = strlen(msg);
        append(msg, sizeof msg, &o, note, strlen(note));
    }
    rcell at = {0};
    char a1[16];
    const char *cell = table_cell_at(d, t, p, col, &at) ? ps_cell_ref(at.row, at.col, a1, sizeof a1) : NULL;
    /* on the table's sheet (a part of a multi-sheet template) */
    const char *sheet =
        ps_document_sheet_at(d, at.sheet) ? ps_document_sheet_at(d, at.sheet) : ps_document_sheet(d);
    ps_finding *f =
        ps_findings_add(ps_document_findings(d), r->id, sev, ps_document_file(d), sheet, cell, msg);
    if (!f || (cell && !ps_finding_add_cell(f, cell)))
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    for (size_t i = 0; i < ps_hierarchy_child_count(h, p); i++) {
        rcell cc;
        char ref[16], qualified[320];
        if (!table_cell_at(d, t, ps_hierarchy_child(h, p, i), col, &cc))
            continue;
        const char *a = ps_cell_ref(cc.row, cc.col, ref, sizeof ref);
        if (cc.sheet != at.sheet && ps_document_sheet_at(d, cc.sheet)) {
            snprintf(qualified, sizeof qualified, "%s!%s", ps_document_sheet_at(d, cc.sheet), ref);
            a = qualified;
        }
        if (!ps_finding_add_cell(f, a))
            return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    int places = typesrc ? finding_places(typesrc) : 2;
    set_scalar(f, expected, true, places);
    set_scalar(f, actual, false, places);
    return PS_OK;
}

/* hierarchy: every parent = Σ its children, per column; a blank child counts nothing (as in +). */
static ps_status run_hierarchy(rctx *c, ps_error *err)
{
    const ps_rule *r = c->r;
    const rhier *hr = r->hier;
    ps_rule_tally *tally = c->tally ? &c->tally[0] : NULL;
    if (r->when) {
        bool go = when_holds(c);
        for (size_t i = 0; i < c->npool; i++)
            free(c->pool[i]);
        c->npool = 0;
        if (!go) {
            if (tally)
                tally->skipped_when++;
            return PS_OK;
        }
    }
    const ps_table *t = ps_document_table(c->docs[0], hr->table);
    size_t n = t ? ps_table_row_count(t) : 0;
    if (n == 0) {
        if (tally)
            tally->blank++;
        return PS_OK;
    }
    const char **codes = calloc(n, sizeof *codes);
    char(*nums)[32] = calloc(n, sizeof *nums);
    ps_hierarchy *h = NULL;
    ps_status st = PS_OK;
    if (!codes || !nums)
        st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    for (size_t i = 0; st == PS_OK && i < n; i++)
        codes[i] = code_text(ps_table_get(t, i, hr->code), nums[i], sizeof nums[i]);
    if (st == PS_OK)
        st = ps_hierarchy_build(codes, n, hr->levels, hr->nlevels, &h, err);
    bool zero = r->blank_zero, skip = !r->blank_zero && !r->blank_report;
    for (size_t k = 0; st == PS_OK && k < hr->ncols; k++) {
        const char *col = hr->cols[k];
        for (size_t p = 0; st == PS_OK && p < n; p++) {
            size_t nch = ps_hierarchy_child_count(h, p);
            if (nch == 0)
                continue;
            const ps_value *pv = ps_table_get(t, p, col);
            bool parent = pv && pv->has_number;
            bool any = false;
            double sum = 0;
            for (size_t i = 0; i < nch; i++) {
                const ps_value *cv = ps_table_get(t, ps_hierarchy_child(h, p, i), col);
                if (cv && cv->has_number) {
                    sum += cv->number;
                    any = true;
                }
            }
            /* blank all round; a figure with no figure under it (blank + blank is blank); a blank
             * parent under blank: skip - nothing to check, unless blanks count 0 */
            if ((!parent && !any) || (!zero && !any) || (skip && !parent)) {
                if (tally)
                    tally->blank++;
                continue;
            }
            double actual = parent ? pv->number : 0;
            double diff = half_up(actual - sum, 2);
            if (diff == 0) {
                if (tally)
                    tally->passed++;
                continue;
            }
            if (tally)
                tally->failed++;
            ps_severity sev = fabs(diff) <= r->band + 1e-9 ? PS_SEV_WARNING : r->severity;
            rval exp = num(sum), act = parent ? num(actual) : zero ? zero_blank() : blank();
            act.src = parent ? pv : NULL;
            st = hierarchy_finding(c, h, t, p, k, exp, act, diff, sev, err);
        }
    }
    ps_hierarchy_free(h);
    free(codes);
    free(nums);
    return st;
}

typedef struct group_row {
    const char *key;
    size_t row, first;
} group_row;

static int by_key_then_row(const void *a, const void *b)
{
    const group_row *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->row > y->row) - (x->row < y->row);
}

static int by_first_then_row(const void *a, const void *b)
{
    const group_row *x = a, *y = b;
    if (x->first != y->first)
        return (x->first > y->first) - (x->first < y->first);
    return (x->row > y->row) - (x->row < y->row);
}

/* Runs the rule for the current binding: once, per row, or per group of the each: table. */
static ps_status run_binding(rctx *c, ps_error *err)
{
    const ps_rule *r = c->r;
    if (r->hier)
        return run_hierarchy(c, err);
    if (!r->each_table)
        return run_once(c, err);
    const ps_table *t = ps_document_table(c->docs[0], r->each_table);
    if (!t)
        return PS_OK;
    size_t n = ps_table_row_count(t);
    if (n == 0)
        return PS_OK;
    size_t *rows = malloc(n * sizeof *rows);
    if (!rows)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    ps_status st = PS_OK;
    c->each_t = t;
    if (!r->each_group) {
        for (size_t i = 0; i < n && st == PS_OK; i++) {
            rows[0] = i;
            c->rows = rows;
            c->nrows = 1;
            st = run_once(c, err);
        }
    } else {
        /* groups by the value of the column, in order of first appearance; a row with a blank
         * group column belongs to the group above it (a merged cell). Sorting keeps this
         * O(n log n) for tables of any size. */
        group_row *g = calloc(n, sizeof *g);
        if (!g)
            st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        const char *prev = NULL;
        size_t ng = 0;
        char numbuf[64];
        char **owned = g ? calloc(n, sizeof *owned) : NULL;
        if (g && !owned)
            st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        for (size_t i = 0; st == PS_OK && i < n; i++) {
            const ps_value *v = ps_table_get(t, i, r->each_group);
            const char *k = v ? (v->text ? v->text : v->raw) : NULL;
            if (v && !k && v->has_number) {
                snprintf(numbuf, sizeof numbuf, "%.10g", v->number);
                if (!(owned[i] = strdup(numbuf)))
                    st = ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
                k = owned[i];
            }
            if (k && blank_text(k))
                k = NULL;
            if (k)
                prev = k;
            if (prev)
                g[ng++] = (group_row){prev, i, 0};
        }
        if (st == PS_OK && ng) {
            qsort(g, ng, sizeof *g, by_key_then_row);
            for (size_t i = 0; i < ng; i++) /* each row learns its group's first row */
                g[i].first = (i > 0 && strcmp(g[i].key, g[i - 1].key) == 0) ? g[i - 1].first : g[i].row;
            qsort(g, ng, sizeof *g, by_first_then_row);
            for (size_t i = 0; i < ng && st == PS_OK;) {
                size_t m = 0;
                size_t first = g[i].first;
                while (i < ng && g[i].first == first)
                    rows[m++] = g[i++].row;
                c->rows = rows;
                c->nrows = m;
                st = run_once(c, err);
            }
        }
        for (size_t i = 0; owned && i < n; i++)
            free(owned[i]);
        free(owned);
        free(g);
    }
    c->each_t = NULL;
    c->rows = NULL;
    c->nrows = 0;
    free(rows);
    return st;
}

static ps_status run_rule(const ps_rule *r, ps_document *const *docs, size_t n, ps_rule_tally *tally,
                          const ps_document *prev, bool prev_exact, ps_error *err)
{
    rctx *c = malloc(sizeof *c);
    if (!c)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    memset(c, 0, offsetof(rctx, cells));
    c->r = r;
    c->docs = docs;
    c->ndocs = n;
    c->tally = tally;
    c->prev = prev;
    c->prev_exact = prev_exact;
    ps_status st = PS_OK;
    size_t count = r->vars.nvars ? r->vars.count : 1;
    for (size_t b = 0; b < count && st == PS_OK; b++) {
        c->binding = b;
        st = run_binding(c, err);
    }
    free(c->pool);
    pcre2_match_data_free(c->md); /* takes NULL */
    free(c);
    return st;
}

ps_status ps_rule_eval_tally(const ps_rule *r, ps_document *doc, ps_rule_tally *tally, ps_error *err)
{
    if (!r || !doc || r->nns > 0)
        return PS_OK;
    return run_rule(r, &doc, 1, tally, NULL, true, err);
}

ps_status ps_rule_eval(const ps_rule *r, ps_document *doc, ps_error *err)
{
    return ps_rule_eval_tally(r, doc, NULL, err);
}

ps_status ps_rule_eval_cross_tally(const ps_rule *r, ps_document *const *docs, size_t n, ps_rule_tally *tally,
                                   ps_error *err)
{
    if (!r || !docs || n != r->nns || n == 0)
        return PS_OK;
    for (size_t i = 0; i < n; i++)
        if (!docs[i])
            return PS_OK;
    return run_rule(r, docs, n, tally, NULL, true, err);
}

ps_status ps_rule_eval_cross(const ps_rule *r, ps_document *const *docs, size_t n, ps_error *err)
{
    return ps_rule_eval_cross_tally(r, docs, n, NULL, err);
}

size_t ps_rule_instance_count(const ps_rule *r)
{
    return r->vars.nvars ? r->vars.count : 1;
}

ps_status ps_rule_eval_previous(const ps_rule *r, ps_document *doc, const ps_document *previous, bool exact,
                                ps_error *err)
{
    if (!r || !doc || r->nns > 0)
        return PS_OK;
    return run_rule(r, &doc, 1, NULL, previous, exact, err);
}

static bool node_reads_previous(const rnode *n)
{
    if (!n)
        return false;
    if (n->kind == N_FIELD && !n->ns && n->str &&
        strncmp(n->str, PS_PREVIOUS_PREFIX, strlen(PS_PREVIOUS_PREFIX)) == 0)
        return true;
    for (size_t i = 0; i < n->nargs; i++)
        if (node_reads_previous(n->args[i]))
            return true;
    return node_reads_previous(n->where);
}

bool ps_rule_reads_previous(const ps_rule *r)
{
    return r && (node_reads_previous(r->check) || node_reads_previous(r->when) ||
                 node_reads_previous(r->expected) || node_reads_previous(r->actual));
}
