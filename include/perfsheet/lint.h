/* lint.h - the rule set's self-check (`perfsheet lint [-m DIR] [FILE...]`), after R's
 * validatetools: rules that can never fail or never run, duplicate and redundant rules,
 * contradictory linear rules, and, on FILEs, the coverage of every rule. What each kind
 * means, with examples: docs/lint.md. Cases: the .yaml files of tests/lint.
 * The analysis returns a list of findings; only cli.c prints them. */
#ifndef PERFSHEET_LINT_H
#define PERFSHEET_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include "perfsheet/error.h"
#include "perfsheet/finding.h"
#include "perfsheet/reader.h"

typedef enum ps_lint_kind {
    PS_LINT_LOAD = 0,      /* lint.load: a mapping or rule that does not load (error) */
    PS_LINT_INPUT,         /* lint.input: a FILE that could not be read (error) */
    PS_LINT_CONSTANT,      /* lint.constant: a check that reads no field */
    PS_LINT_SELF_COMPARE,  /* lint.self_compare: a comparison of an expression with itself */
    PS_LINT_NEVER_RUNS,    /* lint.never_runs: `when:` always false, a {var} that is no for: variable */
    PS_LINT_DUPLICATE,     /* lint.duplicate: the same check twice (after normalisation) */
    PS_LINT_REDUNDANT,     /* lint.redundant: a check implied by other rules */
    PS_LINT_IMPLIED_VALUE, /* lint.implied_value: rules that together fix a field (d = 0) */
    PS_LINT_CONTRADICTION, /* lint.contradiction: rules that cannot all hold (error) */
    PS_LINT_COVERAGE,      /* lint.coverage: what the runs of a rule came to on the FILEs (info) */
} ps_lint_kind;

typedef struct ps_lint_finding {
    ps_lint_kind kind;
    ps_severity severity;
    const char *file;     /* the mapping file (or the FILE for lint.input) */
    int line, col;        /* 1-based; 0 when unknown */
    int span;             /* lint.load: the culprit's length in characters (0 unknown), for the caret */
    const char *rule;     /* rule id; NULL for lint.load and lint.input */
    const char *instance; /* "c=final" for one instance of a for: rule, else NULL */
    const char *message;  /* Chinese */
    /* lint.coverage only: documents of the rule's template(s) it could run on, and its runs */
    size_t documents, passed, failed, blank, skipped_when;
} ps_lint_finding;

typedef struct ps_lint_report ps_lint_report;

typedef struct ps_lint_options {
    const char *mapping_dir;  /* -m DIR, or NULL: the built-in mappings alone */
    const char *const *files; /* spreadsheets to measure coverage on (may be none) */
    size_t nfiles;
    ps_limits limits; /* for reading the files */
} ps_lint_options;

/* Loads the mappings (and their rules), lints them and, with files, runs the rules on the
 * documents of the files counting what each run came to. A mapping that does not load is a
 * lint.load finding (nothing else is then said about the rules), an unreadable file a
 * lint.input finding. Returns PS_OK with *out set (caller owns: ps_lint_report_free), or
 * PS_ERR_NOMEM. Static findings come in file:line:column order, then coverage in rule order. */
ps_status ps_lint_run(const ps_lint_options *opt, ps_lint_report **out, ps_error *err);
void ps_lint_report_free(ps_lint_report *rep); /* takes NULL */
size_t ps_lint_count(const ps_lint_report *rep);
const ps_lint_finding *ps_lint_at(const ps_lint_report *rep, size_t i); /* borrowed */

/* "lint.duplicate" and so on. */
const char *ps_lint_kind_name(ps_lint_kind kind);

#endif
