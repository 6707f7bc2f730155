/* report_html.h - the HTML review report of a batch (`perfsheet report -o OUT.html`): one
 * self-contained file (inline CSS and JS, nothing fetched) that a reviewer opens in any browser.
 * At the top, totals by template, severity and rule, and the filters (severity, rule, unit,
 * search; also read from the URL hash, e.g. `#sev=error&rule=zpb.rate`); then one section per
 * input file, in input order: each document's findings, each shown with the cells around its
 * flagged cell as the file has them (merged cells as rowspan/colspan, the cell highlighted, the
 * other cells of the finding marked lighter), or the file's error when it could not be read.
 * Cell text is shown as the unit submitted it and is escaped: nothing in a file can inject markup.
 * Memory stays bounded: sections are written to a temporary file as files come; only the
 * totals live in memory, and they go to the top when the report is closed. See docs/report.md. */
#ifndef PERFSHEET_REPORT_HTML_H
#define PERFSHEET_REPORT_HTML_H

#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/mapping.h"
#include "perfsheet/workbook.h"

typedef struct ps_report ps_report;

/* Starts a report for out_path; set (borrowed until close/abort) gives the templates' titles.
 * Creates the page's temporary file next to out_path at once (PS_ERR_IO naming out_path when
 * that folder is not writable); nothing is at out_path before ps_report_close. Caller owns *out
 * (set on success only). */
ps_status ps_report_open(const ps_mapping_set *set, const char *out_path, ps_report **out, ps_error *err);

/* One input file, in input order. wb (borrowed for the call) is the file's workbook, for the
 * grid excerpts; NULL when unreadable (file_error says why; findings are then shown without their
 * grid). docs (borrowed) carry ALL their findings, cross-table ones included. file_error (may be
 * NULL) makes the section say why the file could not be processed. Returns PS_OK, or the error
 * that makes the report unusable (a write failure, out of memory): then call ps_report_abort. */
ps_status ps_report_add_file(ps_report *r, const char *file, const ps_workbook *wb, ps_document *const *docs,
                             size_t ndocs, const ps_error *file_error, ps_error *err);

/* Writes the totals and the sections to a temporary name next to out_path and renames it over
 * out_path (atomic). Frees r, whatever the result; on failure nothing is left behind. */
ps_status ps_report_close(ps_report *r, ps_error *err);

/* Drops the report (nothing is left behind) and frees r. Takes NULL. */
void ps_report_abort(ps_report *r);

#endif
