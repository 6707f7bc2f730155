#!/usr/bin/python3
"""Checks the DOM that headless Chromium rendered from a `perfsheet report` page (--dump-dom),
for tests/cli/report.sh. Asserts on the rendered page, not on the HTML perfsheet wrote.
  report_dom.py findings CHECK_JSONL DOM   every finding of `check --json` (file, severity, sheet!cell,
                                           message, rule) in its file's section, each with a grid whose
                                           highlighted cell is the flagged one; every unreadable file
                                           with its error; nothing more
  report_dom.py filter DOM SEVS [RULE]     after a URL hash: findings shown iff their severity is in SEVS
                                           (comma-separated) and their rule is RULE; sections shown iff
                                           they show a finding
  report_dom.py inject DOM NEEDLE...       no injected markup ran or exists (data-pwned, img, script in
                                           the sections); each NEEDLE is shown as text
Exit status 0 when all holds, 1 with the failures listed."""
import json
import sys
from html.parser import HTMLParser

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
SEV_WORD = {'error': '错误', 'warning': '警告', 'info': '提示'}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def cls(self):
        return (self.attrs.get('class') or '').split()

    def text(self):
        return ''.join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find(self, tag=None, cls=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.cls())]

    def first(self, tag=None, cls=None):
        found = self.find(tag, cls)
        return found[0] if found else None


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node('#root', [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(path):
    t = Tree()
    t.feed(open(path, encoding='utf-8').read())
    t.close()
    return t.root


def sections(root):
    units = root.first('main')
    assert units is not None and units.attrs.get('id') == 'units', 'no <main id="units"> in the DOM'
    return [s for s in units.children if isinstance(s, Node) and s.tag == 'section']


def shown_findings(sec):
    """(severity, ref, message, rule, hidden, finding node) of each finding of a section."""
    out = []
    for f in sec.find('div', 'f'):
        sev = next((s for s in ('error', 'warning', 'info') if s in f.cls()), None)
        part = lambda c: (f.first(cls=c).text() if f.first(cls=c) else None)
        out.append((sev, part('ref'), part('msg'), part('rule'), 'hid' in f.cls(), f))
    return out


def column_index(letters):
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def highlighted_refs(f):
    """The A1 references the grid of finding f highlights (class h), merged spans included."""
    table = f.first('table', 'g')
    if table is None:
        return set()
    rows = table.find('tr')
    header = [th.text() for th in rows[0].find('th')][1:]
    cols = [None if h == '…' else column_index(h) for h in header]
    taken, refs = set(), set()  # grid positions covered by row/colspans
    for ri, tr in enumerate(rows[1:]):
        row = int(tr.first('th').text())
        ci = 0
        for td in tr.find('td'):
            while (ri, ci) in taken:
                ci += 1
            rs, cs = int(td.attrs.get('rowspan', 1)), int(td.attrs.get('colspan', 1))
            for dr in range(rs):
                for dc in range(cs):
                    taken.add((ri + dr, ci + dc))
                    if 'h' in td.cls() and ci + dc < len(cols) and cols[ci + dc] is not None:
                        refs.add('%s%d' % (letters(cols[ci + dc]), row + dr))
            ci += cs
    return refs


def letters(col):
    s = ''
    col += 1
    while col:
        col, r = divmod(col - 1, 26)
        s = chr(65 + r) + s
    return s


def check_findings(check_path, dom_path):
    fails = []
    secs = {}
    for s in sections(parse(dom_path)):
        secs.setdefault(s.first(cls='file').text(), []).append(s)
    lines = [json.loads(l) for l in open(check_path, encoding='utf-8') if l.strip()]
    if len(secs) != len(lines) or any(len(v) != 1 for v in secs.values()):
        fails.append('%d sections for %d files' % (sum(len(v) for v in secs.values()), len(lines)))
    errors = 0
    for line in lines:
        file = line['file']
        sec = secs.get(file, [None])[0]
        if sec is None:
            fails.append('%s: no section' % file)
            continue
        got = shown_findings(sec)
        if line['status'] == 'error':
            e = line['error']
            if not any(g[0] == 'error' and g[2] == e['message'] and g[3] == e['code'] for g in got):
                fails.append('%s: its error [%s] %s is not shown' % (file, e['code'], e['message']))
            continue
        want = line.get('findings', [])
        if len(got) != len(want):
            fails.append('%s: %d findings shown, %d found by check' % (file, len(got), len(want)))
        for f in want:
            ref = '%s!%s' % (f['sheet'], f['cell']) if f.get('cell') else f.get('sheet', '')
            match = [g for g in got if g[0] == f['severity'] and g[1] == ref and g[2] == f['message']
                     and g[3] == f['rule']]
            if not match:
                fails.append('%s: %s %s %s not shown' % (file, f['severity'], ref, f['message']))
                continue
            node = match[0][5]
            sev_word = node.first(cls='sev').text()
            if sev_word != SEV_WORD[f['severity']]:
                fails.append('%s %s: severity shown as %r' % (file, ref, sev_word))
            if f.get('cell') and f['cell'] not in highlighted_refs(node):
                fails.append('%s %s: the grid does not highlight %s (highlights %s)' %
                             (file, ref, f['cell'], sorted(highlighted_refs(node))))
            errors += f['severity'] == 'error'
    print('report_dom: %d files, %d error findings checked' % (len(lines), errors))
    return fails


def check_filter(dom_path, sevs, rule):
    fails = []
    sevs = set(sevs.split(','))
    shown = 0
    for s in sections(parse(dom_path)):
        got = shown_findings(s)
        file = s.first(cls='file').text()
        any_shown = False
        for sev, ref, msg, r, hidden, _ in got:
            want = sev in sevs and (not rule or r == rule)
            if want == hidden:
                fails.append('%s %s [%s]: %s' % (file, ref, r, 'hidden' if hidden else 'shown'))
            any_shown = any_shown or not hidden
        if ('hid' in s.cls()) == any_shown:
            fails.append('%s: section %s' % (file, 'hidden' if any_shown else 'shown without a finding'))
        shown += any_shown
    if not shown:
        fails.append('the filter shows nothing: the test would prove nothing')
    print('report_dom: filter %s %s: %d sections shown' % (','.join(sorted(sevs)), rule or '-', shown))
    return fails


def check_inject(dom_path, needles):
    fails = []
    root = parse(dom_path)
    for n in root.walk():
        if 'data-pwned' in n.attrs:
            fails.append('injected script ran: <%s data-pwned=%s>' % (n.tag, n.attrs['data-pwned']))
    units = root.first('main')
    for tag in ('script', 'img', 'iframe', 'object', 'style'):
        if units is not None and units.find(tag):
            fails.append('a <%s> element inside the sections' % tag)
    title = root.first('title')
    if title is None or title.text() != '绩效评价数据审核报告':
        fails.append('page title changed: %r' % (title.text() if title else None))
    text = units.text() if units is not None else ''
    for needle in needles:
        if needle not in text:
            fails.append('not shown as text: %r' % needle)
    print('report_dom: injection checked, %d texts' % len(needles))
    return fails


def main(argv):
    if len(argv) >= 4 and argv[1] == 'findings':
        fails = check_findings(argv[2], argv[3])
    elif len(argv) in (4, 5) and argv[1] == 'filter':
        fails = check_filter(argv[2], argv[3], argv[4] if len(argv) == 5 else '')
    elif len(argv) >= 4 and argv[1] == 'inject':
        fails = check_inject(argv[2], argv[3:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for f in fails[:50]:
        print('FAIL:', f)
    return 1 if fails else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
