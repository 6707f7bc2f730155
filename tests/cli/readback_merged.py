#!/usr/bin/env python3
"""readback_merged.py - checks a 汇总 sheet of a consolidated workbook written by `perfsheet
merge`, reading it back with openpyxl:  readback_merged.py OUT.xlsx SHEET UNITS
  - rows 1-4 are the title, the legend, the 合计 row and the header; UNITS unit rows follow,
    nothing after them;
  - title, legend, 合计 and header are frozen, and so is the 填报单位 column (A); the header
    row carries the autofilter over exactly the unit rows, so sorting never moves 合计;
  - no cell is a formula; every 合计 cell is either the sum of the unit values of its column
    (money, and the operands of a ratio) or, in a 0.00% column, the ratio of two summed
    columns (控制率 = Σ实际在职人数 / Σ编制数, 执行率 = Σ全年执行数 / Σ全年预算数); scores and
    counts have no total;
  - print setup: landscape, one page wide, the header row and column A on every page;
  - 校验结果 and 文件 exist.
Prints what it checked; exits 1 on the first mismatch."""
import sys

import openpyxl
from openpyxl.utils import get_column_letter


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main(path, sheet, units):
    wb = openpyxl.load_workbook(path)
    for name in (sheet, "校验结果", "文件"):
        if name not in wb.sheetnames:
            fail("no sheet %s in %s" % (name, wb.sheetnames))
    ws = wb[sheet]
    if ws.freeze_panes != "B5":
        fail("title, legend, 合计, header and 填报单位 not frozen: %s" % ws.freeze_panes)
    if ws.cell(4, 1).value != "填报单位" or not str(ws.cell(3, 1).value).startswith("合计"):
        fail("A3/A4 are %r/%r" % (ws.cell(3, 1).value, ws.cell(4, 1).value))
    last = 4 + units
    if ws.max_row != last:
        fail("max_row %d, want %d (4 head rows + %d units)" % (ws.max_row, last, units))
    if not ws.auto_filter.ref or not ws.auto_filter.ref.startswith("A4:") or not ws.auto_filter.ref.endswith(str(last)):
        fail("autofilter %r, want A4:…%d" % (ws.auto_filter.ref, last))
    heads = {ws.cell(4, c).value: c for c in range(1, ws.max_column + 1)}
    if ws.cell(4, ws.max_column).value != "文件":
        fail("the file is not the last column")
    for row in ws.iter_rows():
        for c in row:
            if c.data_type == "f":
                fail("%s is a formula: %r" % (c.coordinate, c.value))
    sums, ratios = 0, 0
    col_sum = {}
    for col in range(3, ws.max_column):
        values = [ws.cell(r, col).value for r in range(5, last + 1)]
        col_sum[col] = sum(x for x in values if isinstance(x, (int, float)) and not isinstance(x, bool))
    for col in range(3, ws.max_column):
        total = ws.cell(3, col).value
        if total is None:
            continue
        letter = get_column_letter(col)
        if not isinstance(total, (int, float)):
            fail("合计 %s3 is %r" % (letter, total))
        if ws.cell(3, col).number_format == "0.00%":
            # a ratio of two summed columns
            found = any(abs(col_sum[a] / col_sum[b] - total) < 1e-9
                        for a in col_sum for b in col_sum
                        if a != b and col_sum[b] and ws.cell(3, a).value is not None and ws.cell(3, b).value is not None)
            if not found:
                fail("合计 %s3 = %r is no ratio of two summed columns" % (letter, total))
            ratios += 1
        else:
            if abs(total - col_sum[col]) > 1e-6:
                fail("合计 %s3 = %r, the units sum to %r" % (letter, total, col_sum[col]))
            sums += 1
    for label in ("分值", "得分", "总分得分", "三级指标个数", "总分分值"):
        c = heads.get(label)
        if c and ws.cell(3, c).value is not None:
            fail("合计 sums %s: %r" % (label, ws.cell(3, c).value))
    if sums == 0 or ratios == 0:
        fail("合计 row: %d sums, %d ratios" % (sums, ratios))
    ps = ws.page_setup
    # fitToWidth left out means 1 (ECMA-376); fitToHeight 0: as many pages down as needed
    # one page across per 16 columns (a 汇总 of 45 columns shrunk to one page cannot be read)
    across = max(1, -(-ws.max_column // 16))
    if (ps.orientation != "landscape" or (ps.fitToWidth or 1) != across or ps.fitToHeight != 0
            or not ws.sheet_properties.pageSetUpPr.fitToPage):
        fail("print setup: %s fitToWidth=%r fitToHeight=%r" % (ps.orientation, ps.fitToWidth, ps.fitToHeight))
    if (ws.print_title_rows or "").replace("$", "") != "4:4" or (ws.print_title_cols or "").replace("$", "") != "A:A":
        fail("print titles %r %r" % (ws.print_title_rows, ws.print_title_cols))
    print("ok: %s: %d units, %d sums and %d ratios in 合计" % (sheet, units, sums, ratios))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
