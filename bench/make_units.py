#!/usr/bin/python3
"""Makes N distinct units from the synthetic samples for the benchmarks: copies of each
unit's jcsj.xls and zpb.xls whose 填报单位 is renamed in place (the first two characters of
the county name replaced by two others, same UTF-16 length, so the BIFF stream stays valid
and both tables of one copy still pair). usage: make_units.py SAMPLES_DIR OUT_DIR N_UNITS"""
import glob, os, sys, json

samples, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
truth = json.load(open(os.path.join(samples, 'expected.json'), encoding='utf-8'))
units = sorted({os.path.dirname(k) for k in truth})
# 1,000 CJK characters from U+5000: the two first characters of unit i are pair number i, so every
# unit name is distinct up to a million units (the old 30-character alphabet, paired by
# i // 12, gave the 12 samples' units the same names: 县医疗保障局 is common to them)
alphabet = [chr(0x5000 + k) for k in range(1000)]
os.makedirs(out, exist_ok=True)
for i in range(n):
    u = units[i % len(units)]
    v = i
    if v >= len(alphabet) ** 2:
        sys.exit('make_units.py: at most %d distinct units' % len(alphabet) ** 2)
    a, b = alphabet[v % len(alphabet)], alphabet[v // len(alphabet)]
    name = truth[u + '/zpb.xls']['unit']
    new = a + b + name[2:]
    for t in ('jcsj', 'zpb'):
        data = open(os.path.join(samples, u, t + '.xls'), 'rb').read()
        data = data.replace(name.encode('utf-16-le'), new.encode('utf-16-le'))
        with open(os.path.join(out, '%05d-%s-%s.xls' % (i, u, t)), 'wb') as f:
            f.write(data)
