/* rules_resolve.c - every name a compiled rule uses, resolved against the fields of its mapping
 * when the mapping is loaded: a misspelled field, table, column, group or placeholder would
 * otherwise read as blank and the rule would quietly check nothing. A cross-table name
 * (jcsj:basic_expense.final) is resolved once every mapping of the set is loaded. */
#include "mapping_int.h"
#include "rules_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- edit distance ----------------------------------------------------------------- */

/* The UTF-8 characters of s as code points into out (at most max); returns how many. */
static size_t code_points(const char *s, unsigned *out, size_t max)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n < max;) {
        unsigned c = *p++;
        int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        while (more-- > 0 && (*p & 0xC0) == 0x80)
            c = (c << 6) | (*p++ & 0x3F);
        out[n++] = c;
    }
    return n;
}

#define NAME_MAX_CHARS 64

size_t ps_rule_name_distance(const char *a, const char *b, size_t limit)
{
    unsigned x[NAME_MAX_CHARS], y[NAME_MAX_CHARS];
    size_t n = code_points(a, x, NAME_MAX_CHARS), m = code_points(b, y, NAME_MAX_CHARS);
    if ((n > m ? n - m : m - n) > limit)
        return limit + 1;
    /* three rows of the optimal string alignment matrix (a transposition costs 1) */
    size_t rows[3][NAME_MAX_CHARS + 1];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        size_t best = cur[0];
        for (size_t j = 1; j <= m; j++) {
            size_t cost = x[i - 1] != y[j - 1];
            size_t d = prev[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (prev[j - 1] + cost < d)
                d = prev[j - 1] + cost;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] && pp[j - 2] + 1 < d)
                d = pp[j - 2] + 1;
            cur[j] = d;
            if (d < best)
                best = d;
        }
        if (best > limit)
            return limit + 1;
        size_t *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] > limit ? limit + 1 : prev[m];
}

/* ---- the names a mapping knows -------------------------------------------------------- */

/* Is key a field of m: a plain field (table NULL) or a column of table? */
static bool has_key(const ps_mapping *m, const char *table, const char *key)
{
    return ps_map_has_key(m, table, key);
}

static bool has_table(const ps_mapping *m, const char *table)
{
    return ps_map_has_key(m, table, NULL);
}

/* The closest candidate to name, when close enough to be a slip: at most 1 edit for short
 * names, 2 from 5 characters on. */
typedef struct suggestion {
    const char *name;
    size_t best;
    size_t limit;
} suggestion;

static void consider(suggestion *s, const char *name, const char *candidate)
{
    if (!candidate || strcmp(name, candidate) == 0)
        return;
    size_t d = ps_rule_name_distance(name, candidate, s->limit);
    if (d <= s->limit && d < s->best) {
        s->best = d;
        s->name = candidate;
    }
}

static suggestion suggest_start(const char *name)
{
    unsigned tmp[NAME_MAX_CHARS];
    size_t len = code_points(name, tmp, NAME_MAX_CHARS);
    suggestion s = {NULL, (size_t)-1, len >= 5 ? 2 : 1};
    return s;
}

/* Candidates: the plain fields of m (table NULL), the columns of table, or (tables) the table
 * names. */
static void consider_mapping(suggestion *s, const char *name, const ps_mapping *m, const char *table,
                             bool tables)
{
    size_t n = m ? ps_mapping_field_count(m) : 0;
    for (size_t i = 0; i < n; i++) {
        const ps_field_spec *f = ps_mapping_field(m, i);
        if (tables)
            consider(s, name, f->table);
        else if (table ? f->table && strcmp(f->table, table) == 0 : !f->table)
            consider(s, name, f->key);
    }
}

/* ---- resolving ------------------------------------------------------------------------ */

typedef struct resolver {
    const ps_rule *r;
    const ps_mapping *self; /* whose documents a name without namespace reads */
    const ps_mapping_set *set;
    ps_error *err;
    const char *text; /* the expression or message being resolved, and where it starts */
    ps_origin origin;
    size_t binding;
    bool in_var; /* the name being resolved holds a for: variable */
} resolver;

static ps_status fail(resolver *R, size_t pos, const suggestion *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static ps_status fail(resolver *R, size_t pos, const suggestion *s, const char *fmt, ...)
{
    int line, col;
    ps_rule_place(R->origin, R->text, pos, &line, &col);
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    int o = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* which run of for: made the name: 「（for: c = budgt）」 */
    for (size_t v = 0; R->in_var && v < R->r->vars.nvars && o > 0 && (size_t)o < sizeof msg; v++)
        o += snprintf(msg + o, sizeof msg - (size_t)o, "%s%s = %s%s",
                      v ? "，" : "（for: ", R->r->vars.names[v], R->r->vars.values[v][R->binding],
                      v + 1 == R->r->vars.nvars ? "）" : "");
    if (s && s->name && o > 0 && (size_t)o < sizeof msg)
        snprintf(msg + o, sizeof msg - (size_t)o, "。您是不是要写 “%s”？", s->name);
    ps_error_at_line(R->err, PS_ERR_MAPPING, R->origin.file, line, col, "%s", msg);
    if (R->err)
        R->err->span = ps_rlex_token_chars(R->text, pos);
    return PS_ERR_MAPPING;
}

/* name with the current binding's for: values, into buf. */
static const char *subst(resolver *R, const char *name, bool has_var, char *buf, size_t size)
{
    if (!name || !has_var)
        return name;
    ps_rule_subst(R->r, R->binding, name, buf, size);
    return buf;
}

/* The mapping of template ns, or NULL after an error. */
static const ps_mapping *namespace_mapping(resolver *R, const char *ns, size_t pos)
{
    const ps_mapping *m = ps_mapping_set_find(R->set, ns);
    if (m)
        return m;
    suggestion s = suggest_start(ns);
    for (size_t i = 0; i < ps_mapping_set_count(R->set); i++)
        consider(&s, ns, ps_mapping_id(ps_mapping_set_at(R->set, i)));
    fail(R, pos, &s, "规则 %s：没有模板 “%s” 的映射文件", R->r->id, ns);
    return NULL;
}

/* A plain field key (of template ns when given). what: "字段" or "消息中的字段". */
static ps_status resolve_field(resolver *R, const char *ns, const char *key, size_t pos, const char *what)
{
    const ps_mapping *m = R->self;
    if (!ns && strncmp(key, PS_PREVIOUS_PREFIX, strlen(PS_PREVIOUS_PREFIX)) == 0) {
        /* last year's value of a field of this same template */
        const char *field = key + strlen(PS_PREVIOUS_PREFIX);
        if (has_key(m, NULL, field))
            return PS_OK;
        suggestion s = suggest_start(field);
        consider_mapping(&s, field, m, NULL, false);
        return fail(R, pos, &s, "规则 %s：%s “%s” 读上年的 “%s”，但它不是映射 %s 的字段", R->r->id, what, key,
                    field, ps_mapping_id(m));
    }
    if (ns && !(m = namespace_mapping(R, ns, pos)))
        return R->err->code;
    if (has_key(m, NULL, key))
        return PS_OK;
    suggestion s = suggest_start(key);
    consider_mapping(&s, key, m, NULL, false);
    if (ns)
        return fail(R, pos, &s, "规则 %s：%s “%s:%s” 不是模板 %s 的字段", R->r->id, what, ns, key, ns);
    return fail(R, pos, &s, "规则 %s：未知的%s “%s”（映射 %s 的 fields 中没有这个键）", R->r->id, what, key,
                ps_mapping_id(m));
}

static ps_status resolve_table(resolver *R, const char *table, size_t pos)
{
    if (has_table(R->self, table))
        return PS_OK;
    suggestion s = suggest_start(table);
    consider_mapping(&s, table, R->self, NULL, true);
    return fail(R, pos, &s, "规则 %s：未知的表 “%s”（映射 %s 的 tables 中没有这张表）", R->r->id, table,
                ps_mapping_id(R->self));
}

static ps_status resolve_column(resolver *R, const char *table, const char *col, size_t pos)
{
    if (resolve_table(R, table, pos) != PS_OK)
        return R->err->code;
    if (!col || has_key(R->self, table, col))
        return PS_OK;
    suggestion s = suggest_start(col);
    consider_mapping(&s, col, R->self, table, false);
    return fail(R, pos, &s, "规则 %s：表 %s 没有列 “%s”", R->r->id, table, col);
}

/* filter: the table of the aggregate whose WHERE n is in (its bare names are that table's
 * columns), else NULL. first: the first binding (names without a variable are checked once). */
static ps_status resolve_node(resolver *R, const rnode *n, const char *filter, bool first)
{
    if (!n)
        return PS_OK;
    char b1[512], b2[512];
    R->in_var = n->has_var;
    if ((first || n->has_var) && (n->kind == N_FIELD || n->kind == N_COL)) {
        const char *key = subst(R, n->str, n->has_var, b1, sizeof b1);
        ps_status st;
        if (n->kind == N_COL)
            st = resolve_column(R, subst(R, n->table, n->has_var, b2, sizeof b2), key, n->pos);
        else if (filter && !n->ns)
            st = resolve_column(R, filter, key, n->pos);
        else
            st = resolve_field(R, n->ns, key, n->pos, "字段");
        if (st != PS_OK)
            return st;
    }
    const char *inner = filter;
    if (n->kind == N_CALL && n->where && n->nargs > 0 && n->args[0]->kind == N_COL)
        inner = n->args[0]->table; /* {var} in the table of a WHERE: not in the language */
    for (size_t i = 0; i < n->nargs; i++)
        if (resolve_node(R, n->args[i], filter, first) != PS_OK)
            return R->err->code;
    return resolve_node(R, n->where, inner, first);
}

static ps_status resolve_message(resolver *R, const rmsg *m, bool first)
{
    for (size_t i = 0; i < m->nparts; i++) {
        const rpart *p = &m->parts[i];
        if (!first && !p->has_var)
            continue;
        char b1[512], b2[512];
        const char *key = subst(R, p->text, p->has_var, b1, sizeof b1);
        ps_status st = PS_OK;
        R->in_var = p->has_var;
        if (p->kind == P_FIELD && p->ns) {
            bool in_rule = false;
            for (size_t k = 0; k < R->r->nns; k++)
                in_rule |= strcmp(R->r->ns[k], p->ns) == 0;
            if (!in_rule)
                return fail(R, p->pos, NULL,
                            "规则 %s：消息中的 “{%s:%s}” 读模板 %s，但这条规则的 check 没有用到 %s", R->r->id,
                            p->ns, key, p->ns, p->ns);
            st = resolve_field(R, p->ns, key, p->pos, "消息中的字段");
        } else if (p->kind == P_FIELD && strncmp(key, PS_PREVIOUS_PREFIX, strlen(PS_PREVIOUS_PREFIX)) == 0) {
            st = resolve_field(R, NULL, key, p->pos, "消息中的字段");
        } else if (p->kind == P_FIELD && R->r->hier && has_key(R->self, R->r->hier->table, key)) {
            /* a hierarchy rule's {name}: that column of the parent's row (the rule is compiled for
             * this mapping alone: marking the part is part of resolving it) */
            ((rpart *)p)->hier_col = true;
        } else if (p->kind == P_FIELD && !has_key(R->self, NULL, key)) {
            /* the names a message may hold besides fields */
            suggestion s = suggest_start(key);
            consider(&s, key, "expected");
            consider(&s, key, "actual");
            consider(&s, key, "id");
            consider(&s, key, "difference");
            if (R->r->hier) {
                consider(&s, key, "relation");
                consider(&s, key, "column");
                consider_mapping(&s, key, R->self, R->r->hier->table, false);
                return fail(
                    R, p->pos, &s,
                    "规则 %s：消息中的 “{%s}” 不是表 %s 的列、字段或 expected、actual、difference、relation、"
                    "column、id",
                    R->r->id, key, R->r->hier->table);
            }
            for (size_t v = 0; v < R->r->vars.nvars; v++)
                consider(&s, key, R->r->vars.names[v]);
            consider_mapping(&s, key, R->self, NULL, false);
            return fail(R, p->pos, &s,
                        "规则 %s：消息中的 “{%s}” 不是字段、for: 变量或 expected、actual、difference、id",
                        R->r->id, key);
        } else if (p->kind == P_COL) {
            const char *table = subst(R, p->table, p->has_var, b2, sizeof b2);
            if ((st = resolve_column(R, table, key, p->pos)) == PS_OK &&
                (!R->r->each_table || strcmp(R->r->each_table, table) != 0) &&
                (!R->r->hier || strcmp(R->r->hier->table, table) != 0))
                st = fail(R, p->pos, NULL, "规则 %s：消息中的表列 {%s[].%s} 只能用在 each: %s 的规则里",
                          R->r->id, table, key, table);
        }
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

/* hierarchy: its table, code column and money columns; each column's label for messages. */
static ps_status resolve_hierarchy(resolver *R)
{
    const rhier *h = R->r->hier;
    R->text = h->table;
    R->origin = h->table_at;
    R->in_var = false;
    if (resolve_table(R, h->table, 0) != PS_OK)
        return R->err->code;
    R->text = h->code;
    R->origin = h->code_at;
    if (resolve_column(R, h->table, h->code, 0) != PS_OK)
        return R->err->code;
    for (size_t i = 0; i < h->ncols; i++) {
        R->text = h->cols[i];
        R->origin = h->cols_at[i];
        if (resolve_column(R, h->table, h->cols[i], 0) != PS_OK)
            return R->err->code;
        const char *label = NULL;
        for (size_t k = 0; k < ps_mapping_field_count(R->self) && !label; k++) {
            const ps_field_spec *f = ps_mapping_field(R->self, k);
            if (f->table && !strcmp(f->table, h->table) && !strcmp(f->key, h->cols[i]))
                label = f->label;
        }
        free(h->labels[i]);
        h->labels[i] = NULL;
        if (label && !(h->labels[i] = strdup(label)))
            return ps_error_set(R->err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    return PS_OK;
}

ps_status ps_rule_resolve(const ps_rule *r, const ps_mapping *self, const ps_mapping_set *set, ps_error *err)
{
    if (r->nns > 0) {
        if (!set)
            return PS_OK; /* resolved with the whole set */
        /* names without namespace read the first template's document */
        self = ps_mapping_set_find(set, r->ns[0]);
    }
    resolver R = {r, self, set, err, NULL, {0}, 0, false};
    if (!self) {
        R.text = r->check_text;
        R.origin = r->check_at;
        return namespace_mapping(&R, r->ns[0], 0) ? PS_OK : err->code;
    }
    if (r->each_table) {
        R.text = r->each_text;
        R.origin = r->each_at;
        const char *t = strstr(r->each_text, r->each_table);
        if (resolve_table(&R, r->each_table, t ? (size_t)(t - r->each_text) : 0) != PS_OK)
            return err->code;
        if (r->each_group && !has_key(self, r->each_table, r->each_group)) {
            const char *by = strstr(r->each_text, " by ");
            const char *g = by ? strstr(by, r->each_group) : NULL;
            suggestion s = suggest_start(r->each_group);
            consider_mapping(&s, r->each_group, self, r->each_table, false);
            return fail(&R, g ? (size_t)(g - r->each_text) : 0, &s,
                        "规则 %s：each: 的分组列 “%s” 不是表 %s 的列", r->id, r->each_group, r->each_table);
        }
    }
    if (r->hier && resolve_hierarchy(&R) != PS_OK)
        return err->code;
    const rnode *exprs[] = {r->check, r->when, r->expected, r->actual, r->at};
    const char *texts[] = {r->check_text, r->when_text, r->expected_text, r->actual_text, r->at_text};
    ps_origin at[] = {r->check_at, r->when_at, r->expected_at, r->actual_at, r->at_at};
    const rmsg *msgs[] = {&r->msg, &r->blank_msg, &r->formula_msg};
    const char *mtexts[] = {r->message, r->blank_message, r->formula_message};
    ps_origin mat[] = {r->message_at, r->blank_message_at, r->formula_message_at};
    size_t count = r->vars.nvars ? r->vars.count : 1;
    for (size_t b = 0; b < count; b++) {
        R.binding = b;
        for (size_t i = 0; i < 5; i++) {
            R.text = texts[i];
            R.origin = at[i];
            if (resolve_node(&R, exprs[i], NULL, b == 0) != PS_OK)
                return err->code;
        }
        for (size_t i = 0; i < 3; i++) {
            R.text = mtexts[i];
            R.origin = mat[i];
            if (resolve_message(&R, msgs[i], b == 0) != PS_OK)
                return err->code;
        }
    }
    return PS_OK;
}
