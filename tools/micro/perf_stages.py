#!/usr/bin/env python3
"""Per-thread, per-stage shares of a `perf record` of an Ember CLI run.

Maps each sampled symbol to a stage of the row pipeline by its name (read, split, parse,
encode, energies, format, write, threads, retain/release + malloc, other) and prints, for each
thread of the command, the share of all samples per stage. Usage:

  perf record -F 10000 -o run.data BIN score MODEL rows.csv --threads 2 --output out.csv
  python3 tools/micro/perf_stages.py run.data COMM      # COMM: the binary's name, e.g. ember

Shares, not times: on a shared machine the times are the load's.
"""
import collections
import re
import subprocess
import sys

data, comm = sys.argv[1], sys.argv[2]
out = subprocess.run(["perf","report","-i",data,"--comm",comm,"--no-children","--sort","pid,sym","--stdio","--percent-limit","0"],capture_output=True,text=True).stdout
cats = [
 ("read (kernel read, page cache copy)", r"\[k\] (_copy_to_iter|filemap|copy_page_to_iter|ksys_read|vfs_read|filemap_read|xas_|folio)"),
 ("split (CSV records)", r"split_fields|CSVReader|CSVBatch|unescape|memmove|memcpy"),
 ("parse (decimal → Double)", r"RawNumber|DecimalParser|ShortDecimal|DecimalScan"),
 ("encode (z-score, missing, slots)", r"RowEncoder|Batch6encode|ByteTokenSet|ByteText"),
 ("energies (network, base, read-out)", r"gemm|activate|ek_det|PreparedBase|gemv|Evaluator|PreparedClass|Session.*score|nearestClass|mostProbable|logits|PackedLayer"),
 ("format (row text, floats)", r"RowText|FloatText|Float32ToASCII|description|IntegerText|Verbs|VerbV5score|Sf11"),
 ("write (output buffer, write(2))", r"TextOutput|OutputSink|ksys_write|vfs_write|ext4|\[k\] .*write"),
 ("threads (pool, wake-ups)", r"pthread|futex|parallel|claim|Parallel|schedule|finish_task_switch|raw_spin|try_to_wake"),
 ("retain/release, malloc", r"swift_retain|swift_release|swift_bridge|malloc|free|swift_allocObject|swift_dealloc|isUniquely"),
]
per = collections.defaultdict(lambda: collections.defaultdict(float)); tot=collections.defaultdict(float)
for line in out.splitlines():
    m = re.match(r"\s+([\d.]+)%\s+(\d+):\S+\s+(.*)", line)
    if not m: continue
    pct, pid, sym = float(m.group(1)), m.group(2), m.group(3)
    for name, rx in cats:
        if re.search(rx, sym): per[pid][name]+=pct; break
    else: per[pid]["other (start-up, loading, kernel)"]+=pct
    tot[pid]+=pct
for pid in per:
    print(f"thread {pid}: {tot[pid]:.1f}% of samples")
    for name,_ in cats+[("other (start-up, loading, kernel)",None)]:
        print(f"   {name:40s} {per[pid][name]:5.1f}%")
