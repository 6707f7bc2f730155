#!/usr/bin/env python3
"""outputs_check.py - what a finance officer relies on in the workbooks perfsheet writes, read
back with openpyxl:

  outputs_check.py unit FILE.xlsx...   converted workbooks (perfsheet convert)
  outputs_check.py merged FILE.xlsx    a consolidated workbook (perfsheet merge)

For every workbook: no cell is a formula; docProps/app.xml names perfsheet. For every 错误 row
of 校验结果: its cell link (an internal hyperlink) leads to a cell that is filled red and whose
comment carries the finding's rule and message; severities are 错误/警告/提示; 期望值 and
实际值 are in the number format of the cell they are about. A unit workbook must place every
error; in a merged workbook an error may have no place only when its cell is in no sheet
(then the row says nothing and the count is printed). Exits 1 with the first problem."""
import re
import sys
import zipfile

import openpyxl

RED = "FFFFC7CE"


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def app_name(path):
    with zipfile.ZipFile(path) as z:
        if z.testzip() is not None:
            fail("%s: a damaged ZIP member" % path)
        xml = z.read("docProps/app.xml").decode("utf-8")
    m = re.search(r"<Application>(.*?)</Application>", xml)
    return m.group(1) if m else None


def target(wb, link):
    """The cell an internal link location ('Sheet'!A1) points at."""
    m = re.fullmatch(r"'?(.*?)'?!\$?([A-Z]+)\$?([0-9]+)", link.replace("''", "'"))
    if not m or m.group(1) not in wb.sheetnames:
        return None
    return wb[m.group(1)]["%s%s" % (m.group(2), m.group(3))]


def check(path, kind):
    if app_name(path) != "perfsheet":
        fail("%s: docProps/app.xml names %r" % (path, app_name(path)))
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    fail("%s: %s!%s is a formula %r" % (path, ws.title, c.coordinate, c.value))
    sheets = [n for n in wb.sheetnames if n == "校验结果" or n.startswith("校验结果 (")]
    if not sheets:
        fail("%s: no 校验结果" % path)
    errors = placed = 0
    for name in sheets:
        ws = wb[name]
        head = {ws.cell(1, c).value: c for c in range(1, ws.max_column + 1)}
        link_col = head.get("标准表单元格") or head.get("汇总单元格")
        for r in range(2, ws.max_row + 1):
            sev = ws.cell(r, head["严重程度"]).value
            if sev not in ("错误", "警告", "提示"):
                fail("%s: %s!row %d severity %r" % (path, name, r, sev))
            if sev != "错误":
                continue
            errors += 1
            rule = ws.cell(r, head["规则"]).value
            msg = ws.cell(r, head["说明"]).value
            link = ws.cell(r, link_col).hyperlink
            if link is None or not link.location:
                if kind == "unit":
                    fail("%s: %s!row %d (%s) has no cell link" % (path, name, r, rule))
                continue
            cell = target(wb, link.location)
            if cell is None:
                fail("%s: %s!row %d links to %r, no such cell" % (path, name, r, link.location))
            text = cell.comment.text if cell.comment else ""
            if rule not in text or msg not in text:
                fail("%s: %s!row %d (%s): %s!%s has no comment with it: %r" %
                     (path, name, r, rule, cell.parent.title, cell.coordinate, text))
            fill = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else ""
            if fill != RED:
                fail("%s: %s!%s flagged by %s is not filled red (%r)" % (path, cell.parent.title, cell.coordinate, rule, fill))
            if isinstance(cell.value, (int, float)):
                for h in ("期望值", "实际值"):
                    v = ws.cell(r, head[h])
                    if isinstance(v.value, (int, float)) and v.number_format != cell.number_format:
                        fail("%s: %s!%s%d is in %r, its cell in %r" % (path, name, h, r, v.number_format, cell.number_format))
            placed += 1
    print("ok: %s: %d errors, %d at a commented red cell" % (path, errors, placed))
    return errors, placed


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    if kind not in ("unit", "merged") or not files:
        fail("usage: outputs_check.py unit|merged FILE.xlsx...")
    total = 0
    for f in files:
        e, _ = check(f, kind)
        total += e
    if total == 0:
        fail("no error finding at all: nothing was checked")


if __name__ == "__main__":
    main()
