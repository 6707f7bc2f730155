#!/usr/bin/env python3
"""readback_merged.py - checks a consolidated workbook written by `perfsheet merge`, reading it
back with openpyxl:  readback_merged.py OUT.xlsx SHEET UNITS
  - SHEET (a 汇总 sheet) has UNITS unit rows under its header, then a 合计 row;
  - every 合计 cell is a live =SUM(<col>2:<col><last>) over exactly the unit rows, and its
    cached value equals the sum of the cached unit values;
  - the header row is frozen; 校验结果 and 文件 exist.
Prints what it checked; exits 1 on the first mismatch."""
import sys

import openpyxl
from openpyxl.utils import get_column_letter


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main(path, sheet, units):
    wf = openpyxl.load_workbook(path)
    wv = openpyxl.load_workbook(path, data_only=True)
    for name in (sheet, "校验结果", "文件"):
        if name not in wf.sheetnames:
            fail("no sheet %s in %s" % (name, wf.sheetnames))
    f, v = wf[sheet], wv[sheet]
    if f.freeze_panes is None or not f.freeze_panes.endswith("2"):
        fail("header row not frozen: %s" % f.freeze_panes)
    total_row = units + 2
    if f.cell(total_row, 1).value != "合计":
        fail("row %d is %r, not 合计" % (total_row, f.cell(total_row, 1).value))
    if f.max_row != total_row:
        fail("rows after 合计: max_row %d" % f.max_row)
    sums = 0
    for col in range(4, f.max_column + 1):
        cell = f.cell(total_row, col)
        if cell.value is None:
            continue
        letter = get_column_letter(col)
        want = "=SUM(%s2:%s%d)" % (letter, letter, total_row - 1)
        if cell.value != want:
            fail("%s%d is %r, want %s" % (letter, total_row, cell.value, want))
        values = [v.cell(r, col).value for r in range(2, total_row)]
        expect = sum(x for x in values if isinstance(x, (int, float)))
        cached = v.cell(total_row, col).value
        if not isinstance(cached, (int, float)) or abs(cached - expect) > 1e-6:
            fail("%s%d caches %r, the units sum to %r" % (letter, total_row, cached, expect))
        sums += 1
    if sums == 0:
        fail("no SUM cells in the 合计 row")
    print("ok: %s: %d units, %d SUM columns match" % (sheet, units, sums))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
