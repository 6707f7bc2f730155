/* merge.h - the consolidated workbook of a batch (`perfsheet merge`), written as the files
 * come, in constant memory (libxlsxwriter's constant_memory mode: memory does not grow with
 * the number of units):
 *   汇总-<template title> one per detectable mapping: a row per unit document, a column per
 *                         canonical field (file, unit, year first), frozen header, a totals
 *                         row of live SUM formulas for money and number columns; flagged
 *                         values filled by severity;
 *   指标明细 / 项目明细     every row of every document's tables, long format;
 *   校验结果               every finding, one row each (file, unit, sheet, cell, rule, …);
 *   文件                   every input file with its status and error.
 * A second document with the same unit, year and template is reported (rule
 * merge.duplicate, warning) and not summed twice: it gets no 汇总 or 明细 rows. */
#ifndef PERFSHEET_MERGE_H
#define PERFSHEET_MERGE_H

#include <stddef.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/mapping.h"

typedef struct ps_merge ps_merge;

/* Starts the workbook for out_path, its sheets laid out from set (borrowed until
 * ps_merge_close/ps_merge_abort). Output goes to a temporary file next to out_path until
 * ps_merge_close. Caller owns *out (set on success only). */
ps_status ps_merge_open(const ps_mapping_set *set, const char *out_path, ps_error *err, ps_merge **out);

/* One input file, in the final (sorted) order: its status and, when PS_OK, its documents
 * (borrowed for the call; already checked, so their findings are present). file_err (may be
 * NULL) says why a file failed. Returns PS_OK, or the error that makes the output unusable
 * (out of memory, a write failure); then call ps_merge_abort. */
ps_status ps_merge_add_file(ps_merge *m, const char *file, ps_status status, const ps_error *file_err,
                            ps_document *const *docs, size_t ndocs);

/* Writes the totals, closes the workbook and renames it over out_path (atomic). Frees m,
 * whatever the result; on failure nothing is left at out_path's temporary name. */
ps_status ps_merge_close(ps_merge *m, ps_error *err);

/* Drops the output (removes the temporary file) and frees m. Takes NULL. */
void ps_merge_abort(ps_merge *m);

/* Counts so far, for the caller's summary line. */
size_t ps_merge_unit_count(const ps_merge *m);      /* documents summed into 汇总 */
size_t ps_merge_duplicate_count(const ps_merge *m); /* documents left out as duplicates */

#endif
