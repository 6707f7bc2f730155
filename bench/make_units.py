#!/usr/bin/python3
"""Makes N distinct units from the synthetic samples for the benchmarks: copies of each
unit's jcsj.xls and zpb.xls whose 填报单位 is renamed in place (the first two characters of
the county name replaced by two others, same UTF-16 length, so the BIFF stream stays valid
and both tables of one copy still pair). usage: make_units.py SAMPLES_DIR OUT_DIR N_UNITS"""
import glob, os, sys, json

samples, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
truth = json.load(open(os.path.join(samples, 'expected.json'), encoding='utf-8'))
units = sorted({os.path.dirname(k) for k in truth})
alphabet = '甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥金木水火土'
os.makedirs(out, exist_ok=True)
for i in range(n):
    u = units[i % len(units)]
    v = i // len(units)
    a, b = alphabet[v % len(alphabet)], alphabet[(v // len(alphabet)) % len(alphabet)]
    name = truth[u + '/zpb.xls']['unit']
    new = a + b + name[2:]
    for t in ('jcsj', 'zpb'):
        data = open(os.path.join(samples, u, t + '.xls'), 'rb').read()
        data = data.replace(name.encode('utf-16-le'), new.encode('utf-16-le'))
        with open(os.path.join(out, '%05d-%s-%s.xls' % (i, u, t)), 'wb') as f:
            f.write(data)
