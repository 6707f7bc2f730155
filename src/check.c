/* check.c - compiling the rules of a mapping set and running them per document and across
 * documents of one unit and year; see check.h. No rule is written here: they are data. */
#include "perfsheet/check.h"

#include "perfsheet/rules.h"
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct checker_set {
    char *template_id;       /* the mapping's id: its one-document rules apply to documents of it */
    const ps_ruleset *rules; /* the mapping's, compiled when it was loaded */
} checker_set;

struct ps_checker {
    checker_set *sets;
    size_t n;
    const ps_previous *previous; /* last year's documents, or NULL (previous. rules skipped) */
};

void ps_checker_set_previous(ps_checker *c, const ps_previous *previous)
{
    if (c)
        c->previous = previous;
}

void ps_checker_free(ps_checker *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->sets[i].template_id);
    }
    free(c->sets);
    free(c);
}

ps_status ps_checker_new(const ps_mapping_set *set, ps_checker **out, ps_error *err)
{
    ps_checker *c = calloc(1, sizeof *c);
    size_t n = set ? ps_mapping_set_count(set) : 0;
    if (!c || (n && !(c->sets = calloc(n, sizeof *c->sets)))) {
        free(c);
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    for (size_t i = 0; i < n; i++) {
        const ps_mapping *m = ps_mapping_set_at(set, i);
        checker_set *cs = &c->sets[c->n++];
        cs->rules = ps_mapping_rules(m);
        if (!(cs->template_id = strdup(ps_mapping_id(m)))) {
            ps_checker_free(c);
            return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        }
    }
    *out = c;
    return PS_OK;
}

size_t ps_checker_rule_count(const ps_checker *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n; i++)
        n += ps_ruleset_count(c->sets[i].rules);
    return n;
}

ps_status ps_checker_check_document(const ps_checker *c, ps_document *doc, ps_error *err)
{
    if (!c || !doc)
        return PS_OK;
    const char *tpl = ps_document_template(doc);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->sets[i].template_id, tpl) != 0)
            continue;
        for (size_t k = 0; k < ps_ruleset_count(c->sets[i].rules); k++) {
            const ps_rule *r = ps_ruleset_at(c->sets[i].rules, k);
            if (ps_rule_namespace_count(r) > 0)
                continue;
            ps_status st;
            if (ps_rule_reads_previous(r)) { /* skipped without last year's document */
                bool exact = true;
                const ps_document *prev = ps_previous_find(c->previous, tpl, ps_document_unit(doc), &exact);
                st = prev ? ps_rule_eval_previous(r, doc, prev, exact, err) : PS_OK;
            } else {
                st = ps_rule_eval(r, doc, err);
            }
            if (st != PS_OK)
                return st;
        }
    }
    return PS_OK;
}

/* Documents grouped by unit and year: the order cross-table rules pair them in. */
typedef struct unit_key {
    const char *unit;
    int year;
    size_t idx;
} unit_key;

static int cmp_unit_key(const void *pa, const void *pb)
{
    const unit_key *a = pa, *b = pb;
    int c = strcmp(a->unit, b->unit);
    if (c)
        return c;
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Runs rule r on each group of documents sharing unit and year: each document of the first
 * template with the first document (in input order) of every other template of the rule. */
static ps_status cross_rule(const ps_rule *r, ps_document *const *docs, const unit_key *keys, size_t nkeys,
                            ps_error *err)
{
    size_t k = ps_rule_namespace_count(r);
    if (k == 0 || k > 8)
        return PS_OK;
    for (size_t g = 0; g < nkeys;) {
        size_t end = g + 1;
        while (end < nkeys && keys[end].year == keys[g].year && strcmp(keys[end].unit, keys[g].unit) == 0)
            end++;
        for (size_t i = g; i < end; i++) {
            ps_document *first = docs[keys[i].idx];
            if (strcmp(ps_document_template(first), ps_rule_namespace(r, 0)) != 0)
                continue;
            ps_document *pick[8] = {first};
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
            ps_status st = ps_rule_eval_cross(r, pick, k, err);
            if (st != PS_OK)
                return st;
        }
        g = end;
    }
    return PS_OK;
}

ps_status ps_checker_check_cross(const ps_checker *c, ps_document *const *docs, size_t n, ps_error *err)
{
    if (!c || !docs || n == 0)
        return PS_OK;
    unit_key *keys = malloc(n * sizeof *keys);
    if (!keys)
        return ps_error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    size_t nkeys = 0;
    for (size_t i = 0; i < n; i++) {
        const char *u = docs[i] ? ps_document_unit(docs[i]) : NULL;
        if (u && *u)
            keys[nkeys++] = (unit_key){u, ps_document_year(docs[i]), i};
    }
    qsort(keys, nkeys, sizeof *keys, cmp_unit_key);
    ps_status st = PS_OK;
    for (size_t i = 0; i < c->n && st == PS_OK; i++)
        for (size_t k = 0; k < ps_ruleset_count(c->sets[i].rules) && st == PS_OK; k++) {
            const ps_rule *r = ps_ruleset_at(c->sets[i].rules, k);
            if (ps_rule_namespace_count(r) > 0)
                st = cross_rule(r, docs, keys, nkeys, err);
        }
    free(keys);
    return st;
}

/* Copies into dst what src holds of key: its value, the address of its blank cell, or what was
 * not found for it. */
static bool copy_key(ps_document *dst, const ps_document *src, const char *key)
{
    const ps_value *v = ps_document_get(src, key);
    if (v)
        return ps_document_set(dst, key, v);
    uint32_t row, col;
    if (ps_document_blank_cell(src, key, &row, &col))
        return ps_document_set_blank_cell(dst, key, row, col);
    const char *missing = ps_document_missing_label(src, key);
    return !missing || ps_document_set_missing_label(dst, key, missing);
}

/* Copies every field of template tpl that node n (and its subtrees) reads. */
static bool copy_fields(const rnode *n, const char *tpl, ps_document *dst, const ps_document *src, bool *all)
{
    if (!n)
        return true;
    if (n->kind == N_FIELD && n->ns && strcmp(n->ns, tpl) == 0) {
        if (n->has_var)
            *all = true; /* a {var} key: keep every value rather than expand it here */
        else if (!copy_key(dst, src, n->str))
            return false;
    }
    for (size_t i = 0; i < n->nargs; i++)
        if (!copy_fields(n->args[i], tpl, dst, src, all))
            return false;
    return copy_fields(n->where, tpl, dst, src, all);
}

ps_document *ps_checker_cross_projection(const ps_checker *c, const ps_document *doc)
{
    const char *tpl = ps_document_template(doc);
    ps_document *p =
        ps_document_new(tpl, ps_document_mapping(doc), ps_document_file(doc), ps_document_sheet(doc));
    if (!p || !copy_key(p, doc, "unit_name") || !copy_key(p, doc, "year")) {
        ps_document_free(p);
        return NULL;
    }
    bool all = false, ok = true;
    for (size_t i = 0; c && i < c->n && ok; i++)
        for (size_t k = 0; k < ps_ruleset_count(c->sets[i].rules) && ok; k++) {
            const ps_rule *r = ps_ruleset_at(c->sets[i].rules, k);
            if (ps_rule_namespace_count(r) == 0)
                continue;
            const rnode *parts[] = {r->check, r->when, r->expected, r->actual, r->at};
            for (size_t q = 0; q < 5 && ok; q++)
                ok = copy_fields(parts[q], tpl, p, doc, &all);
        }
    for (size_t k = 0; ok && all && k < ps_document_value_count(doc); k++)
        ok = ps_document_set(p, ps_document_value_key(doc, k), ps_document_value_at(doc, k));
    if (!ok) {
        ps_document_free(p);
        return NULL;
    }
    return p;
}
