/* fuzz_rules.c - libFuzzer target: the audit-rule language. An input holding "check:" is a YAML
 * rule list (ps_ruleset_from_string: for:, each:, messages with placeholders); any other input is
 * one bare check expression (ps_rule_compile). A rule list's names are then resolved as a mapping
 * loading it would (ps_rule_resolve, against the built-in zpb mapping and, for cross-table
 * rules, the built-in set): a rule that does not resolve must say why. Every rule that compiles
 * is evaluated against a fixed document with values and tables, cross-table rules against one
 * such document per template they name. */
#include "fuzz_common.h"

#include "perfsheet/mapping.h"
#include "perfsheet/rules.h"
#include "rules_int.h"

static ps_mapping_set *builtin_set;
static int builtin_tried;

static const ps_mapping_set *builtins(void)
{
    if (!builtin_tried) {
        builtin_tried = 1;
        ps_error err;
        if (ps_mapping_set_load(NULL, &builtin_set, &err) != PS_OK)
            builtin_set = NULL;
    }
    return builtin_set;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void set_num(ps_document *doc, const char *key, ps_field_type t, double n, uint32_t row, uint32_t col)
{
    ps_value v = ps_value_number(t, n, row, col);
    v.decimals = 2;
    ps_document_set(doc, key, &v);
}

static void set_text(ps_document *doc, const char *key, const char *text)
{
    ps_value v = ps_value_number(PS_TYPE_TEXT, 0, 1, 1);
    v.has_number = false;
    v.text = text;
    v.raw = text;
    ps_document_set(doc, key, &v);
}

static void row_set(ps_table *t, size_t r, const char *key, ps_field_type type, double n, const char *text)
{
    ps_value v = ps_value_number(type, n, (uint32_t)(10 + r), 3);
    if (text) {
        v.has_number = type != PS_TYPE_TEXT;
        v.text = text;
        v.raw = text;
    }
    ps_table_set(t, r, key, &v);
}

/* A document like an extracted 自评表/基础数据表, fresh for each input (rules add findings). */
static ps_document *fixture(const char *template_id)
{
    ps_document *doc = ps_document_new(template_id, "fuzz", "fuzz.xls", "Sheet1");
    if (!doc)
        return NULL;
    set_text(doc, "unit_name", "衡阳县财政局");
    set_num(doc, "year", PS_TYPE_YEAR, 2021, 2, 1);
    set_num(doc, "funds.budget_initial", PS_TYPE_MONEY, 700, 5, 2);
    set_num(doc, "funds.budget_full", PS_TYPE_MONEY, 753.6, 5, 3);
    set_num(doc, "funds.executed", PS_TYPE_MONEY, 750.6, 5, 4);
    set_num(doc, "funds.rate", PS_TYPE_FRACTION, 0.98, 5, 5);
    set_num(doc, "funds.weight", PS_TYPE_NUMBER, 10, 5, 6);
    set_num(doc, "funds.score", PS_TYPE_NUMBER, 9.5, 5, 7);
    set_num(doc, "income.general_budget", PS_TYPE_MONEY, 700.1, 7, 2);
    set_num(doc, "income.gov_fund", PS_TYPE_MONEY, 0, 7, 3);
    set_num(doc, "expense.basic", PS_TYPE_MONEY, 500, 8, 4);
    set_num(doc, "expense.personnel", PS_TYPE_MONEY, 400, 9, 4);
    set_num(doc, "expense.public", PS_TYPE_MONEY, -100, 10, 4);
    set_num(doc, "expense.project", PS_TYPE_MONEY, 250.6, 11, 4);
    set_num(doc, "basic_expense.final", PS_TYPE_MONEY, 500, 12, 4);
    set_num(doc, "total.weight", PS_TYPE_NUMBER, 100, 30, 6);
    set_num(doc, "total.score", PS_TYPE_NUMBER, 1e308, 30, 7);
    set_num(doc, "staff_quota", PS_TYPE_INT, 12, 3, 3);
    set_text(doc, "phone", "0734-1234567");
    set_text(doc, "goals.planned", "完成年度目标");
    set_text(doc, "grade", "优秀");
    ps_table *ind = ps_document_add_table(doc, "indicators");
    static const char *names[] = {"参保人数", "满意度", "", "≥95%"};
    for (size_t i = 0; ind && i < 4; i++) {
        size_t r = ps_table_add_row(ind);
        if (r == SIZE_MAX)
            break;
        row_set(ind, r, "level1", PS_TYPE_TEXT, 0, i < 2 ? "产出指标" : "效益指标");
        row_set(ind, r, "name", PS_TYPE_TEXT, 0, names[i]);
        row_set(ind, r, "weight", PS_TYPE_NUMBER, (double)(5 * i), NULL);
        row_set(ind, r, "score", PS_TYPE_NUMBER, 4.5 * (double)i, NULL);
        row_set(ind, r, "target", PS_TYPE_TARGET, 95, "≥95%");
    }
    ps_table *blocks = ps_document_add_table(doc, "blocks");
    for (size_t i = 0; blocks && i < 2; i++) {
        size_t r = ps_table_add_row(blocks);
        if (r == SIZE_MAX)
            break;
        row_set(blocks, r, "level1", PS_TYPE_TEXT, 0, i ? "效益指标" : "产出指标");
        row_set(blocks, r, "weight", PS_TYPE_NUMBER, 50, NULL);
        row_set(blocks, r, "score", PS_TYPE_NUMBER, 53, NULL);
    }
    ps_document_add_table(doc, "projects"); /* present and empty */
    return doc;
}

static void eval(const ps_rule *r)
{
    ps_error err;
    size_t n = ps_rule_namespace_count(r);
    if (n == 0) {
        ps_document *doc = fixture("zpb");
        if (doc)
            ps_rule_eval(r, doc, &err);
        ps_document_free(doc);
        return;
    }
    if (n > 8)
        return;
    ps_document *docs[8] = {0};
    for (size_t i = 0; i < n; i++)
        docs[i] = fixture(ps_rule_namespace(r, i));
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = ok && docs[i];
    if (ok)
        ps_rule_eval_cross(r, docs, n, &err);
    for (size_t i = 0; i < n; i++)
        ps_document_free(docs[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * PS_RULE_MAX_TEXT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    ps_error err;
    ps_error_clear(&err);
    if (strstr(text, "check:")) {
        ps_ruleset *set = NULL;
        if (ps_ruleset_from_string(text, size, "fuzz.yaml", &set, &err) == PS_OK) {
            const ps_mapping_set *bs = builtins();
            const ps_mapping *zpb = bs ? ps_mapping_set_find(bs, "zpb") : NULL;
            for (size_t i = 0; zpb && i < ps_ruleset_count(set); i++) {
                ps_error rerr;
                ps_error_clear(&rerr);
                if (ps_rule_resolve(ps_ruleset_at(set, i), zpb, bs, &rerr) != PS_OK && !rerr.message[0])
                    abort(); /* every refusal must say why */
            }
            for (size_t i = 0; i < ps_ruleset_count(set); i++)
                eval(ps_ruleset_at(set, i));
            ps_ruleset_free(set);
        } else if (!err.message[0]) {
            abort();
        }
    } else {
        ps_origin o = {"fuzz", 1, 1};
        ps_rule *r = ps_rule_compile("fuzz", text, o, &err);
        if (r) {
            volatile size_t sink = strlen(ps_rule_id(r)) + (size_t)ps_rule_severity(r);
            (void)sink;
            eval(r);
            ps_rule_free(r);
        } else if (!err.message[0]) {
            abort();
        }
    }
    free(text);
    return 0;
}
