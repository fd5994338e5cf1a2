// Preloaded into the language server by bench/lsp.ts (`node --require bench/child/loopStall.cjs dist/server.js`):
// records the server's own event-loop stalls. A 2 ms interval timer notes every gap between its turns longer
// than 20 ms (start as epoch ms, length in ms, CPU ms the process used meanwhile); the list is written as JSON to $KVM_LENS_LOOP_LOG when the
// process exits. The bench keeps the gaps inside its load window. A gap is the longest turn that ran in it,
// plus up to 2 ms. Every 50 ms it also samples process.memoryUsage() (rss, heapUsed, external, arrayBuffers in MiB) and the process's CPU time (ms).
'use strict';
const out = process.env.KVM_LENS_LOOP_LOG;
if (out) {
  const { writeFileSync } = require('node:fs');
  const origin = Date.now() - performance.now();
  // to place CPU profile samples (CLOCK_MONOTONIC microseconds) on the same clock
  const clock = { epochMs: Date.now(), monoUs: Number(process.hrtime.bigint() / 1000n) };
  const gaps = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let turns = 0;
  const mem = [];
  let lastMem = 0;
  const MiB = 1 / 1048576;
  const timer = setInterval(() => {
    const now = performance.now();
    turns++;
    if (now - lastMem >= 50) {
      lastMem = now;
      const m = process.memoryUsage();
      const c = process.cpuUsage();
      mem.push([Math.round(origin + now), Math.round(m.rss * MiB), Math.round(m.heapUsed * MiB), Math.round(m.external * MiB), Math.round(m.arrayBuffers * MiB), Math.round((c.user + c.system) / 1000)]);
    }
    const cpu = process.cpuUsage();
    if (now - last > 20) {
      // CPU the process used in the gap (all its threads): about the gap when the loop was busy, much less when
      // the process waited for a core (other load on the machine)
      const used = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      gaps.push([Math.round(origin + last), Math.round((now - last) * 10) / 10, Math.round(used * 10) / 10]);
    }
    last = now;
    lastCpu = cpu;
  }, 2);
  timer.unref();
  process.on('exit', () => {
    try {
      writeFileSync(out, JSON.stringify({ turns, gaps, mem, clock }));
    } catch {
      /* the bench reports the log as missing */
    }
  });
}
