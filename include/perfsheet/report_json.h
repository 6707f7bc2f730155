/* report_json.h - the JSON of spec/cli.md, written into growable buffers so that parallel
 * batches can build each file's line on its own thread and print them in input order. */
#ifndef PERFSHEET_REPORT_JSON_H
#define PERFSHEET_REPORT_JSON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/finding.h"
#include "perfsheet/workbook.h"

/* A growable byte buffer. A failed allocation sets oom and drops further appends. */
typedef struct ps_buf {
    char *data; /* NUL-terminated when len > 0 */
    size_t len, cap;
    bool oom;
} ps_buf;

void ps_buf_free(ps_buf *b); /* releases data; the buffer is empty again */
void ps_buf_append(ps_buf *b, const char *s, size_t n);
void ps_buf_puts(ps_buf *b, const char *s);
void ps_buf_printf(ps_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A JSON string literal; invalid UTF-8 bytes become U+FFFD. NULL writes null. */
void ps_json_string(ps_buf *b, const char *s);
/* A JSON number in its shortest round-trip form; integral values get ".0" ("1.0") unless
 * as_int; NaN and infinities write null. */
void ps_json_number(ps_buf *b, double v, bool as_int);

/* The text Excel would show for a cell with a known format ("100.00%", "1,220.03"), into buf;
 * returns false when there is nothing better than the value itself. */
bool ps_cell_display(const ps_cell *c, char *buf, size_t size);

/* One `inspect --json` line (with newline) for file: its workbook, or the error when wb is NULL. */
void ps_report_inspect_json(ps_buf *b, const char *file, const ps_workbook *wb, const ps_error *err);

/* One line (with newline) of `detect/extract/check --json` for file. status_error: the file
 * could not be read (err says why); otherwise docs[0..n). with_values adds values, sources
 * and tables (extract); with_findings adds findings (check, extract). */
void ps_report_file_json(ps_buf *b, const char *file, const ps_error *err, ps_document *const *docs, size_t n,
                         bool with_values, bool with_findings);

/* The pieces of that line, for callers that add findings later (cross-table rules):
 * the documents array ("[...]"), and the findings objects appended comma-separated (no
 * brackets) after *first tells whether one was written before. */
void ps_report_documents_json(ps_buf *b, ps_document *const *docs, size_t n, bool with_values);
void ps_report_findings_items(ps_buf *b, const ps_findings *list, bool *first);
/* Assembles a line from its pieces: status "findings" when has_findings, else "ok". */
void ps_report_file_line(ps_buf *b, const char *file, const ps_buf *documents, const ps_buf *findings,
                         bool with_findings, bool has_findings);

/* One finding object (no newline). */
void ps_report_finding_json(ps_buf *b, const ps_finding *f);

/* A value as JSON: the number (as int for int/year types) or the text. */
void ps_report_value_json(ps_buf *b, const ps_value *v);

#endif
