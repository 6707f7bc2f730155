/* finding.h - what checking and cleaning say about a cell: rule id, severity, the cell it
 * points at (the left-hand side: the declared total, rate, score or grade), the other cells
 * involved, expected and actual values and a Chinese message.
 * A ps_findings list owns its findings and every string in them. */
#ifndef PERFSHEET_FINDING_H
#define PERFSHEET_FINDING_H

#include <stdbool.h>
#include <stddef.h>

typedef enum ps_severity { PS_SEV_INFO = 0, PS_SEV_WARNING, PS_SEV_ERROR } ps_severity;

typedef enum ps_scalar_kind { PS_SCALAR_NONE = 0, PS_SCALAR_NUMBER, PS_SCALAR_TEXT } ps_scalar_kind;

/* An expected or actual value: absent, a number or a text (e.g. the year typed '20201'). */
typedef struct ps_scalar {
    ps_scalar_kind kind;
    double number;
    char *text; /* owned by the findings list */
} ps_scalar;

typedef struct ps_findings ps_findings;

typedef struct ps_finding {
    char *rule; /* "zpb.rate", "clean.percent_text", "cross.basic" */
    ps_severity severity;
    char *file;   /* the input file the cell belongs to; may be NULL until set */
    char *sheet;  /* sheet name */
    char *cell;   /* A1 of the left-hand side; may be NULL for file-level findings */
    char **cells; /* every cell involved, the left-hand side first */
    size_t ncells;
    ps_scalar expected, actual;
    char *message;              /* Chinese */
    struct ps_findings *owner_; /* private: the list whose arena holds the strings */
} ps_finding;

ps_findings *ps_findings_new(void);       /* NULL on out-of-memory */
void ps_findings_free(ps_findings *list); /* takes NULL */

/* Appends a finding; every string is copied (NULL allowed except rule and message).
 * Returns the new finding (borrowed until the next ps_findings_add or ps_findings_sort on the list),
 * NULL on out-of-memory. */
ps_finding *ps_findings_add(ps_findings *list, const char *rule, ps_severity severity, const char *file,
                            const char *sheet, const char *cell, const char *message);
bool ps_finding_add_cell(ps_finding *f, const char *cell);
void ps_finding_set_expected_number(ps_finding *f, double v);
void ps_finding_set_actual_number(ps_finding *f, double v);
bool ps_finding_set_expected_text(ps_finding *f, const char *s);
bool ps_finding_set_actual_text(ps_finding *f, const char *s);

/* Replaces f's cell (NULL: none) and message with copies, leaving `cells` as it is. */
bool ps_finding_set_texts(ps_finding *f, const char *cell, const char *message);

/* Appends copies of every finding of src to dst. */
bool ps_findings_append(ps_findings *dst, const ps_findings *src);

size_t ps_findings_count(const ps_findings *list);
const ps_finding *ps_findings_at(const ps_findings *list, size_t i);
/* How many findings of the given severity. */
size_t ps_findings_count_severity(const ps_findings *list, ps_severity sev);

/* Stable, deterministic order: file, sheet, row, column of the cell, rule. */
void ps_findings_sort(ps_findings *list);

const char *ps_severity_name(ps_severity sev); /* "info", "warning", "error" */

#endif
