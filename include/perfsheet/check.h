/* check.h - running the audit rules (审核公式) of the mappings on extracted documents.
 * A checker holds the compiled `rules:` of every mapping of a set; documents are then
 * checked by the rules of their template, and pairs of documents of one unit and year (jcsj and
 * zpb) by the cross-table rules (those naming fields as jcsj:…, e.g. mappings/cross.yaml).
 * Findings are appended to ps_document_findings() of the document holding the rule's left-hand
 * side. The rules themselves: rules.h, docs/rules.md. */
#ifndef PERFSHEET_CHECK_H
#define PERFSHEET_CHECK_H

#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/mapping.h"
#include "perfsheet/previous.h"

typedef struct ps_checker ps_checker;

/* Gathers every mapping's rules (compiled and resolved when the set was loaded: nothing can
 * fail here but memory). *out is set on success only. The rules are borrowed from set, which
 * must outlive the checker. Caller owns *out: ps_checker_free(). */
ps_status ps_checker_new(const ps_mapping_set *set, ps_checker **out, ps_error *err);
void ps_checker_free(ps_checker *c); /* takes NULL */
/* Last year's documents for the rules reading `previous.` keys (borrowed; must outlive the
 * checker). Without them (NULL, the default), or when a unit has no document last year, those
 * rules are skipped. */
void ps_checker_set_previous(ps_checker *c, const ps_previous *previous);

/* Runs the one-document rules of doc's template (ps_document_template) on doc. Thread-safe for
 * distinct documents. PS_ERR_NOMEM is the only failure. */
ps_status ps_checker_check_document(const ps_checker *c, ps_document *doc, ps_error *err);

/* Pairs the documents by unit_name and year (one per template named by a cross rule; when a
 * unit has several documents of one template, each is paired with the first of the others) and
 * runs the cross-table rules on each pair. docs are borrowed. */
ps_status ps_checker_check_cross(const ps_checker *c, ps_document *const *docs, size_t n, ps_error *err);

/* A copy of doc holding only what the cross-table rules read of its template (the fields
 * they name, values or blank-cell addresses) plus unit_name and year to pair by, and no
 * findings: long batches keep these instead of whole documents until ps_checker_check_cross
 * has run on them. Caller frees. NULL on out-of-memory. */
ps_document *ps_checker_cross_projection(const ps_checker *c, const ps_document *doc);

/* The number of compiled rules (for `--version` style reports and tests). */
size_t ps_checker_rule_count(const ps_checker *c);

#endif
