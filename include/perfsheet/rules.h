/* rules.h - the audit-rule language (审核公式): compile once, evaluate per document.
 * A rule is a YAML mapping under the `rules:` key of a mapping file:
 *
 *   - id: zpb.rate
 *     check: funds.rate = funds.executed / funds.budget_full
 *     message: 执行率应为 {expected:percent}（全年执行数 {funds.executed:money} / …），表中为
 * {actual:percent}
 *
 * `check` is an expression over canonical fields (arithmetic, comparisons with tolerance,
 * AND/OR/NOT, SUM/COUNT over table columns with WHERE, functions such as PRESENT, MATCHES,
 * DIGITS, IF, COALESCE); `for:` expands a rule over a list of names, `each:` runs it per row or
 * per group of a table. `hierarchy:` instead of `check` checks each parent = Σ its children of a
 * table keyed by 科目编码 (hierarchy.h); `band:` makes a difference up to the band a 尾数误差
 * warning; `blank: zero` counts blank inputs 0; a mapping's `defaults:` gives every rule its band
 * and blank. Grammar and every key: docs/rules.md. Cases: the .test files of tests/rules.
 * No rule logic lives in C: jcsj/zpb/cross rules are data in the mapping files (mappings/). */
#ifndef PERFSHEET_RULES_H
#define PERFSHEET_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"

/* Longest rule text (check, message, …) and deepest expression accepted. */
#define PS_RULE_MAX_TEXT 8192
#define PS_RULE_MAX_DEPTH 128

/* Where a text starts in its file, so errors can point into the mapping file.
 * line/col are 1-based (0: unknown, positions are then relative to the text). */
typedef struct ps_origin {
    const char *file; /* borrowed; may be NULL */
    int line, col;
} ps_origin;

typedef struct ps_rule ps_rule;
typedef struct ps_ruleset ps_ruleset;

/* Compiles a bare check expression into a rule with id `id`, severity error and a generic
 * message. Returns NULL and fills *err (PS_ERR_RULE_SYNTAX, line:col of the culprit) on a
 * syntax error, or PS_ERR_NOMEM. Caller owns it: ps_rule_free(). */
ps_rule *ps_rule_compile(const char *id, const char *text, ps_origin origin, ps_error *err);

void ps_rule_free(ps_rule *r); /* takes NULL */

const char *ps_rule_id(const ps_rule *r); /* borrowed until ps_rule_free */
ps_severity ps_rule_severity(const ps_rule *r);

/* Template ids a cross-table rule refers to ("jcsj", "zpb" for `jcsj:basic_expense.final`), in
 * order of first use; 0 for a rule about one document. Borrowed until ps_rule_free. */
size_t ps_rule_namespace_count(const ps_rule *r);
const char *ps_rule_namespace(const ps_rule *r, size_t i);

/* Evaluates a one-document rule on doc and appends its findings to ps_document_findings(doc).
 * Returns PS_OK, or PS_ERR_NOMEM / PS_ERR_RULE_SYNTAX (a rule that cannot run, e.g. a bad
 * regular expression) with *err filled. A cross-table rule is skipped here. */
ps_status ps_rule_eval(const ps_rule *r, ps_document *doc, ps_error *err);

/* Evaluates a cross-table rule: docs[i] is the document for ps_rule_namespace(r, i) (n must equal
 * ps_rule_namespace_count). Findings go on the document holding the left-hand side. */
ps_status ps_rule_eval_cross(const ps_rule *r, ps_document *const *docs, size_t n, ps_error *err);

/* Whether the rule reads last year's figures (a `previous.` key, docs/rules.md). Such a rule
 * runs only through ps_rule_eval_previous, with last year's document of the same unit. */
bool ps_rule_reads_previous(const ps_rule *r);
/* As ps_rule_eval, the `previous.KEY` names reading KEY of previous (last year's document of the
 * same template and unit; exact: matched by the exact normalised unit name). Each finding's
 * message ends with where last year's figure came from, and says when the match was not exact. */
ps_status ps_rule_eval_previous(const ps_rule *r, ps_document *doc, const ps_document *previous, bool exact,
                                ps_error *err);

/* What the runs of a rule came to, for `perfsheet lint FILE…` (coverage): a run is one
 * evaluation of one `for:` instance on one document, row or group. */
typedef struct ps_rule_tally {
    size_t passed, failed; /* evaluated (a blank left side reported as 「表中为空」 counts as failed) */
    size_t blank;          /* skipped: the check came to blank (its inputs were blank) */
    size_t skipped_when;   /* skipped: `when:` was false or blank */
} ps_rule_tally;

/* How many instances the rule's `for:` expands to (1 without `for:`). */
size_t ps_rule_instance_count(const ps_rule *r);

/* As ps_rule_eval / ps_rule_eval_cross, also adding each run's outcome to tally[i], where i is
 * the run's `for:` instance (tally has ps_rule_instance_count(r) entries, borrowed). */
ps_status ps_rule_eval_tally(const ps_rule *r, ps_document *doc, ps_rule_tally *tally, ps_error *err);
ps_status ps_rule_eval_cross_tally(const ps_rule *r, ps_document *const *docs, size_t n, ps_rule_tally *tally,
                                   ps_error *err);

/* A list of rules: the `rules:` sequence of one mapping file, compiled when the mapping is
 * loaded (ps_mapping_rules) with every name resolved against the mapping's fields. */
/* Parses YAML text holding either a sequence of rules or a mapping with a `rules:` key
 * (tests, docs, fuzzing). Names are not resolved here: no mapping says which exist. */
ps_status ps_ruleset_from_string(const char *yaml, size_t len, const char *file, ps_ruleset **out,
                                 ps_error *err);
void ps_ruleset_free(ps_ruleset *set); /* takes NULL */
size_t ps_ruleset_count(const ps_ruleset *set);
const ps_rule *ps_ruleset_at(const ps_ruleset *set, size_t i);
const ps_rule *ps_ruleset_find(const ps_ruleset *set, const char *id); /* NULL when absent */

/* Formats the error display of jq and cmark: the source line (tabs kept), then a line of
 * spaces and `^` under the 1-based character column col, followed by `~` under the rest of
 * the culprit, `width` characters long in all (ps_error.span; 0 or 1 for a lone `^`),
 * counting CJK and full-width characters as two columns (`年度` → `^~~~`). Writes at most
 * size bytes (always NUL-terminated); returns the length it needed. */
size_t ps_rule_caret(const char *source_line, int col, int width, char *buf, size_t size);

#endif
