#!/usr/bin/env python3
# Diagnostic sampler (S10, README "Reliability"): every second, per kind of process and thread
# name ("/MAIN" for a process's main thread), the time on CPU, the time waiting on a run queue
# (both s since the last sample) and the number of time slices, from /proc/PID/task/TID/schedstat;
# and once per simulated node, its autogroup and CPU affinity. JSON lines appended to argv[1].
# Usage as bench/cpu-sample.py.
import os, sys, time, json
out = open(sys.argv[1], 'w')
def kindof(cmd):
    if 'node-peer-main' in cmd: return 'simnode'
    if '--type=renderer' in cmd: return 'renderer'
    if 'relay' in cmd and 'node' in cmd: return 'relay'
    if 'chromium' in cmd and '--type=' not in cmd: return 'chr-browser'
    return None
prev={}
logged=set()
while True:
    cur={}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try: cmd = open(f'/proc/{pid}/cmdline','rb').read().decode(errors='replace')
        except Exception: continue
        k=kindof(cmd)
        if not k: continue
        if k=='simnode' and pid not in logged:
            logged.add(pid)
            try: out.write(json.dumps({'pid':pid,'ag':open(f'/proc/{pid}/autogroup').read().strip(),'aff':[l for l in open(f'/proc/{pid}/status') if l.startswith('Cpus_allowed_list')][0].strip()})+'\n')
            except Exception: pass
        try: tids=os.listdir(f'/proc/{pid}/task')
        except Exception: continue
        for tid in tids:
            try:
                name=open(f'/proc/{pid}/task/{tid}/comm').read().strip()
                a,b,n3=open(f'/proc/{pid}/task/{tid}/schedstat').read().split()
            except Exception: continue
            cur[(pid,tid)]=(f'{k}/{name}'+('/MAIN' if tid==pid else ''),int(a),int(b),int(n3))
    agg={}
    for key,(n,a,b,n3) in cur.items():
        p=prev.get(key)
        if not p: continue
        x=agg.setdefault(n,[0,0,0]); x[0]+= (a-p[1])/1e9; x[1]+=(b-p[2])/1e9; x[2]+=n3-p[3]
    out.write(json.dumps({'t':time.time(),'s':{k:[round(v[0],3),round(v[1],3),v[2]] for k,v in agg.items() if v[0]+v[1]>0.001}})+'\n'); out.flush()
    prev=cur
    time.sleep(1)
