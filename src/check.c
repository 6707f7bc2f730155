/* check.c - compiling the rules of a mapping set and running them per document and across
 * documents of one unit and year; see check.h. No rule is written here: they are data. */
#include "perfsheet/check.h"

#include "perfsheet/rules.h"

#include <stdlib.h>
#include <string.h>

typedef struct checker_set {
    char *template_id; /* the mapping's id: its one-document rules apply to documents of it */
    ps_ruleset *rules;
} checker_set;

struct ps_checker {
    checker_set *sets;
    size_t n;
};

void checker_free(ps_checker *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->sets[i].template_id);
        ruleset_free(c->sets[i].rules);
    }
    free(c->sets);
    free(c);
}

ps_status checker_new(const ps_mapping_set *set, ps_checker **out, ps_error *err)
{
    ps_checker *c = calloc(1, sizeof *c);
    size_t n = set ? mapping_set_count(set) : 0;
    if (!c || (n && !(c->sets = calloc(n, sizeof *c->sets)))) {
        free(c);
        return error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
    }
    for (size_t i = 0; i < n; i++) {
        const ps_mapping *m = mapping_set_at(set, i);
        ps_ruleset *rs = NULL;
        ps_status st = ruleset_from_node(mapping_section(m, "rules"), mapping_path(m), &rs, err);
        if (st != PS_OK) {
            checker_free(c);
            return st;
        }
        checker_set *cs = &c->sets[c->n++];
        cs->rules = rs;
        if (!(cs->template_id = strdup(mapping_id(m)))) {
            checker_free(c);
            return error_set(err, PS_ERR_NOMEM, NULL, "内存不足");
        }
    }
    *out = c;
    return PS_OK;
}

size_t checker_rule_count(const ps_checker *c)
{
    size_t n = 0;
    for (size_t i = 0; c && i < c->n; i++)
        n += ruleset_count(c->sets[i].rules);
    return n;
}

ps_status checker_check_document(const ps_checker *c, ps_document *doc, ps_error *err)
{
    if (!c || !doc)
        return PS_OK;
    const char *tpl = document_template(doc);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->sets[i].template_id, tpl) != 0)
            continue;
        for (size_t k = 0; k < ruleset_count(c->sets[i].rules); k++) {
            const ps_rule *r = ruleset_at(c->sets[i].rules, k);
            if (rule_namespace_count(r) > 0)
                continue;
            ps_status st = rule_eval(r, doc, err);
            if (st != PS_OK)
                return st;
        }
    }
    return PS_OK;
}

static bool same_unit(const ps_document *a, const ps_document *b)
{
    const char *ua = document_unit(a), *ub = document_unit(b);
    return ua && ub && *ua && strcmp(ua, ub) == 0 && document_year(a) == document_year(b);
}

/* Runs rule r on every combination of documents of its templates that share unit and year:
 * each document of the first template with the first matching document of every other. */
static ps_status cross_rule(const ps_rule *r, ps_document *const *docs, size_t n, ps_error *err)
{
    size_t k = rule_namespace_count(r);
    if (k == 0 || k > 8)
        return PS_OK;
    for (size_t i = 0; i < n; i++) {
        if (!docs[i] || strcmp(document_template(docs[i]), rule_namespace(r, 0)) != 0)
            continue;
        ps_document *pick[8] = {docs[i]};
        bool complete = true;
        for (size_t t = 1; t < k && complete; t++) {
            pick[t] = NULL;
            for (size_t j = 0; j < n && !pick[t]; j++)
                if (j != i && docs[j] && strcmp(document_template(docs[j]), rule_namespace(r, t)) == 0 &&
                    same_unit(docs[i], docs[j]))
                    pick[t] = docs[j];
            complete = pick[t] != NULL;
        }
        if (!complete)
            continue;
        ps_status st = rule_eval_cross(r, pick, k, err);
        if (st != PS_OK)
            return st;
    }
    return PS_OK;
}

ps_status checker_check_cross(const ps_checker *c, ps_document *const *docs, size_t n, ps_error *err)
{
    if (!c || !docs)
        return PS_OK;
    for (size_t i = 0; i < c->n; i++)
        for (size_t k = 0; k < ruleset_count(c->sets[i].rules); k++) {
            const ps_rule *r = ruleset_at(c->sets[i].rules, k);
            if (rule_namespace_count(r) == 0)
                continue;
            ps_status st = cross_rule(r, docs, n, err);
            if (st != PS_OK)
                return st;
        }
    return PS_OK;
}
