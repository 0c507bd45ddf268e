#!/usr/bin/env python3
# Diagnostic sampler (S10, README "Reliability"): every second, the CPU (utime + stime from
# /proc/PID/task/TID/stat) used by each kind of process (Chromium renderer/browser/gpu/utility,
# simulated node, relay, test runner) and thread name since the last sample, as JSON lines
# {"t": unix s, "cpu": {"kind/thread": seconds}} appended to argv[1]. Runs until killed (by PID).
# Usage: python3 bench/cpu-sample.py /tmp/cpu.jsonl & (then npm run soak -- --only S10; kill it)
import os, sys, time, json
out = open(sys.argv[1], 'w')
hz = os.sysconf('SC_CLK_TCK')
def kind(pid):
    try:
        cmd = open(f'/proc/{pid}/cmdline','rb').read().split(b'\0')
    except Exception: return None
    s = b' '.join(cmd).decode(errors='replace')
    if 'chrom' in s:
        for t in ('renderer','gpu-process','utility','zygote'):
            if f'--type={t}' in s: return 'chr-'+t
        return 'chr-browser'
    if 'node-peer-main' in s: return 'simnode'
    if 'relay' in s and 'node' in s: return 'relay'
    if 'playwright' in s or 'vitest' in s: return 'runner'
    if 'node' in s or 'tsx' in s: return 'node-other'
    return None
prev = {}
while True:
    cur = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        k = kind(pid)
        if k is None: continue
        try: tids = os.listdir(f'/proc/{pid}/task')
        except Exception: continue
        for tid in tids:
            try:
                st = open(f'/proc/{pid}/task/{tid}/stat').read()
            except Exception: continue
            name = st[st.index('(')+1:st.rindex(')')]
            f = st[st.rindex(')')+2:].split()
            ticks = int(f[11]) + int(f[12])
            cur[(pid,tid)] = (k, name, ticks)
    now = time.time()
    agg = {}
    for key,(k,name,t) in cur.items():
        p = prev.get(key)
        d = t - (p[2] if p else t)
        if d: agg[f'{k}/{name}'] = agg.get(f'{k}/{name}',0) + d/hz
    out.write(json.dumps({'t': now, 'cpu': agg})+'\n'); out.flush()
    prev = cur
    time.sleep(1)
