/* merge.h - the consolidated workbook of a batch (`perfsheet merge`), made to be read, sorted
 * and printed (docs/outputs.md):
 *   汇总-<sheet>  one per detectable mapping: a title, a legend of the fills, a bold 合计 row
 *                 above the header (money summed, ratios recomputed from the sums, scores
 *                 and counts not summed), then one row per unit document: 填报单位 first and
 *                 frozen, 年度, the canonical fields, the rows of tables that have no sheet
 *                 of their own (e.g. each 一级指标's 分值 and 得分), the file last;
 *   指标明细 / 项目明细  every row of every document's tables, long format;
 *   校验结果       every finding, one row each, linked to the cell that shows it;
 *   文件           every input file with its status, error and duplicates.
 * Every sheet lists the units in one order: the order in which each unit first appears in
 * the inputs. No cell is a formula. Flagged values are filled by severity and carry the
 * findings as a comment. A sheet that reaches the row limit continues in `<name> (2)`, …
 * with the same header: no row is ever dropped.
 * A second document with the same unit, year and template is summed once: the one with the
 * later 填报时间 wins, then the later file in input order; the other is listed in 校验结果
 * once (rule merge.duplicate) and in 文件, saying which file won and why.
 * Memory: documents are spilled to a temporary file as they come and written at
 * ps_merge_close (libxlsxwriter's constant_memory mode), so memory holds some 64 bytes per
 * document and per file, not the documents. */
#ifndef PERFSHEET_MERGE_H
#define PERFSHEET_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "perfsheet/document.h"
#include "perfsheet/error.h"
#include "perfsheet/mapping.h"

typedef struct ps_merge ps_merge;

typedef struct ps_merge_options {
    /* Rows per sheet, header rows included; 0: Excel's 1,048,576. A smaller limit is for
     * tests (a sheet must hold its header and one row: smaller values count as that). */
    uint32_t sheet_rows;
} ps_merge_options;

/* Starts the workbook for out_path, its sheets laid out from set (borrowed until
 * ps_merge_close/ps_merge_abort); opt may be NULL (defaults). Output goes to a temporary
 * file next to out_path until ps_merge_close. Caller owns *out (set on success only). */
ps_status ps_merge_open_opt(const ps_mapping_set *set, const char *out_path, const ps_merge_options *opt,
                            ps_error *err, ps_merge **out);
/* ps_merge_open_opt with the default options. */
ps_status ps_merge_open(const ps_mapping_set *set, const char *out_path, ps_error *err, ps_merge **out);

/* One input file, in the final (sorted) order: its status and, when PS_OK, its documents
 * (borrowed for the call; already checked, so their findings are present). file_err (may be
 * NULL) says why a file failed. Returns PS_OK, or the error that makes the output unusable
 * (out of memory, a write failure); then call ps_merge_abort. */
ps_status ps_merge_add_file(ps_merge *m, const char *file, ps_status status, const ps_error *file_err,
                            ps_document *const *docs, size_t ndocs);

/* Writes every sheet, closes the workbook and renames it over out_path (atomic). Frees m,
 * whatever the result; on failure nothing is left at out_path's temporary name. When spread
 * is not NULL it receives (NUL-terminated, cut to size) what the caller should tell: the parts
 * that took more than one sheet, e.g. "指标明细 3 张工作表（2,500,000 行）", separated by
 * "；", or "" when every part fit in one sheet. */
ps_status ps_merge_close_spread(ps_merge *m, char *spread, size_t size, ps_error *err);
/* ps_merge_close_spread without the report. */
ps_status ps_merge_close(ps_merge *m, ps_error *err);

/* Drops the output (removes the temporary file) and frees m. Takes NULL. */
void ps_merge_abort(ps_merge *m);

/* Counts so far, for the caller's summary line. */
size_t ps_merge_unit_count(const ps_merge *m);      /* documents summed into 汇总 */
size_t ps_merge_duplicate_count(const ps_merge *m); /* documents left out as duplicates */

#endif
