/* sqlite_out.h - a batch as a SQLite database (`perfsheet merge -o OUT.sqlite`), written as
 * the files come, in one transaction on a temporary file renamed over the output at the
 * end: an interrupted or failed run leaves nothing behind. Tables (docs/sqlite.md):
 *   files          every input file: path, status (ok, findings, error), its error;
 *   documents      every unit document: file, sheet, template, mapping, unit, year;
 *   field_values   one row per document and field key: the value as `check --json` shows
 *                  it, its type, number, text, the cell's raw text and the source cell;
 *   indicators, projects, … one table per template table: a row per table row (document,
 *                  row number, the source cells) and a column per key, added as keys appear;
 *   findings       every finding: file, document, rule, severity, sheet, cell, cells,
 *                  message, expected, actual.
 * Rows go in in input order, so the same inputs give the same database for any -j. */
#ifndef PERFSHEET_SQLITE_OUT_H
#define PERFSHEET_SQLITE_OUT_H

#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"

typedef struct ps_sqlite_out ps_sqlite_out;

/* Creates the database at a temporary name next to out_path (copied) and starts the
 * transaction. Caller owns *out (set on success only): ps_sqlite_out_close or _abort. */
ps_status ps_sqlite_out_open(const char *out_path, ps_sqlite_out **out, ps_error *err);

/* One input file, in input order: file_err (NULL when it was read) or its documents
 * (borrowed for the call, with all their findings). Returns PS_OK, or the error that makes
 * the output unusable (then call ps_sqlite_out_abort). */
ps_status ps_sqlite_out_add_file(ps_sqlite_out *o, const char *file, const ps_error *file_err,
                                 ps_document *const *docs, size_t ndocs, ps_error *err);

/* Adds the indexes and views, commits, closes and renames the database over out_path. Frees
 * o whatever the result; on failure nothing is left at the temporary name. */
ps_status ps_sqlite_out_close(ps_sqlite_out *o, ps_error *err);

/* Drops the output (removes the temporary file) and frees o. Takes NULL. */
void ps_sqlite_out_abort(ps_sqlite_out *o);

#endif
