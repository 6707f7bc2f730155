#!/usr/bin/env python3
"""readback.py - dumps a written .xlsx with openpyxl, one line per non-empty cell, for the C tests
(tests/unit/test_writer.c, test_merge.c) and tests/cli/*.sh:

    <sheet>!<A1> TAB <kind> TAB <cached value> TAB <formula> TAB <fill RGB> TAB <number format> TAB <comment>

kind is n (number), s (string), d (date), b (bool) or f (a formula: the value column then holds
the cached value read with data_only=True). Tabs and newlines inside text are written as \\t and
\\n. Also prints `#freeze <sheet> <cell>` and `#merged <sheet> <range>` lines."""
import datetime
import sys

import openpyxl


def esc(v):
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def fmt_value(v):
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    return esc(v)


def main(path):
    wb_f = openpyxl.load_workbook(path, data_only=False)
    wb_v = openpyxl.load_workbook(path, data_only=True)
    out = sys.stdout
    for ws in wb_f.worksheets:
        wv = wb_v[ws.title]
        if ws.freeze_panes:
            out.write("#freeze %s %s\n" % (ws.title, ws.freeze_panes))
        for rng in ws.merged_cells.ranges:
            out.write("#merged %s %s\n" % (ws.title, rng.coord))
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and c.comment is None:
                    continue
                v = wv[c.coordinate].value
                if c.data_type == "f" or (isinstance(c.value, str) and c.data_type == "f"):
                    kind, formula = "f", c.value
                elif isinstance(c.value, bool):
                    kind, formula = "b", ""
                elif isinstance(c.value, (int, float)):
                    kind, formula = "n", ""
                elif isinstance(c.value, (datetime.datetime, datetime.date)):
                    kind, formula = "d", ""
                else:
                    kind, formula = "s", ""
                fill = ""
                if c.fill is not None and c.fill.fill_type == "solid":
                    fill = str(c.fill.fgColor.rgb)
                comment = c.comment.text if c.comment else ""
                out.write("%s!%s\t%s\t%s\t%s\t%s\t%s\t%s\n" % (
                    ws.title, c.coordinate, kind, "" if v is None else fmt_value(v),
                    esc(formula), fill, esc(c.number_format), esc(comment)))


if __name__ == "__main__":
    main(sys.argv[1])
