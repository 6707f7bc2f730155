#!/usr/bin/env python3
"""recalc_check.py - compares the workbooks perfsheet wrote with the same workbooks after
LibreOffice recalculated them on load and saved them again:

  recalc_check.py control OUT.xlsx           writes a control workbook: A1 holds =1+1 with a
                                             stale saved result of 5
  recalc_check.py compare ORIG_DIR RECALC_DIR  every numeric cell of every ORIG_DIR/*.xlsx is
                                             unchanged in RECALC_DIR/<same name>, and the
                                             control workbook now shows 2 (so LibreOffice did
                                             recalculate: the check cannot pass by accident)
Exits 1 with the first difference."""
import os
import re
import sys
import zipfile

import openpyxl


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def control(path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=1+1"
    wb.active["A2"] = 7
    tmp = path + ".tmp"
    wb.save(tmp)
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text, n = re.subn(r"<f>1\+1</f>(<v\s*/>|<v></v>)?", "<f>1+1</f><v>5</v>", text)
                if n != 1:
                    fail("could not plant a stale value in the control workbook")
                data = text.encode("utf-8")
            zout.writestr(item, data)
    os.unlink(tmp)


def numbers(path):
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, (int, float)) and not isinstance(c.value, bool):
                    out[(ws.title, c.coordinate)] = float(c.value)
    return out


def compare(orig_dir, recalc_dir):
    ctl = openpyxl.load_workbook(os.path.join(recalc_dir, "control.xlsx"), data_only=True).active["A1"].value
    if ctl != 2:
        fail("LibreOffice did not recalculate on load: the control shows %r, not 2" % ctl)
    files = sorted(f for f in os.listdir(orig_dir) if f.endswith(".xlsx") and f != "control.xlsx")
    if not files:
        fail("no workbook in %s" % orig_dir)
    cells = 0
    for f in files:
        after_path = os.path.join(recalc_dir, f)
        if not os.path.exists(after_path):
            fail("LibreOffice wrote no %s" % after_path)
        before, after = numbers(os.path.join(orig_dir, f)), numbers(after_path)
        for key, v in before.items():
            w = after.get(key)
            if w is None or abs(w - v) > 1e-9 * max(1.0, abs(v)):
                fail("%s: %s!%s was %r, %r after recalculation" % (f, key[0], key[1], v, w))
        cells += len(before)
    print("ok: %d workbooks, %d numeric cells unchanged after LibreOffice recalculated them" % (len(files), cells))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "control":
        control(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        fail("usage: recalc_check.py control OUT.xlsx | compare ORIG_DIR RECALC_DIR")
