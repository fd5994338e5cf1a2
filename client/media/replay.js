// @ts-check
// The replay panel's page. Data arrives by postMessage from client/src/replayPanel.ts; every string from the
// trace is set with textContent or as an SVG attribute value, never parsed as HTML. The one exception is the
// call's explanation, which the extension rendered with marked and whose raw HTML it escaped.
(function () {
  const vscode = acquireVsCodeApi();
  const SVG = 'http://www.w3.org/2000/svg';
  const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
  const tbody = /** @type {HTMLElement} */ (document.querySelector('#calls tbody'));
  const slotBody = /** @type {HTMLElement} */ (document.querySelector('#slots tbody'));

  /** @type {any[]} */
  let calls = [];
  let selected = -1;
  /** @type {any} */
  let state = null;

  function el(/** @type {string} */ tag, /** @type {string=} */ cls, /** @type {string=} */ text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(/** @type {string} */ tag, /** @type {Record<string, string|number>} */ attrs, /** @type {string=} */ text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function big(/** @type {unknown} */ v) {
    try {
      if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) return BigInt(v.trim());
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    } catch (_) { /* not a number */ }
    return null;
  }
  function hex(/** @type {bigint} */ v) {
    return '0x' + v.toString(16);
  }
  function human(/** @type {bigint} */ size) {
    const units = [['GiB', 30n], ['MiB', 20n], ['KiB', 10n]];
    for (const [u, s] of units) {
      const unit = 1n << /** @type {bigint} */ (s);
      if (size >= unit && size % unit === 0n) return (size / unit).toString() + ' ' + u;
    }
    for (const [u, s] of units) {
      const unit = 1n << /** @type {bigint} */ (s);
      if (size >= unit) return (Number(size * 10n / unit) / 10).toFixed(1) + ' ' + u;
    }
    return size.toString() + ' B';
  }

  // ---- calls table -------------------------------------------------------------------------------------
  function renderCalls(/** @type {any} */ m) {
    calls = Array.isArray(m.calls) ? m.calls : [];
    $('file').textContent = m.file || '';
    const s = m.summary;
    $('summary').textContent = s ? `${s.calls} calls: ${s.match} match, ${s.mismatch} mismatch, ${s.unknown} unknown` : '';
    const p = m.profile;
    const prof = $('profile');
    prof.replaceChildren();
    if (p && p.summary) {
      // The summary in one line; why the server chose it (one reason a line) folded below.
      const details = el('details');
      const summary = el('summary');
      summary.append(el('span', 'label', 'Replay profile: '), el('span', 'value', String(p.summary)));
      details.append(summary);
      if (Array.isArray(p.inferred) && p.inferred.length) {
        const ul = el('ul');
        for (const why of p.inferred) ul.append(el('li', '', String(why)));
        details.append(ul);
      }
      prof.append(details);
    }
    $('error').hidden = true;
    first = last = 0;
    tbody.replaceChildren();
    renderWindow(true);
    $('empty').hidden = calls.length > 0;
    markSelected(selected < calls.length ? selected : -1);
  }

  function makeRow(/** @type {any} */ c, /** @type {number} */ i) {
    const tr = el('tr', 'verdict-' + (c.verdict || 'unknown'));
    tr.dataset.index = String(i);
    tr.tabIndex = -1;
    tr.title = c.why || '';
    const fd = c.fd === null || c.fd === undefined ? '?' : String(c.fd);
    const recorded = el('td', 'recorded', String(c.recorded || ''));
    recorded.title = String(c.recorded || '');
    const expected = el('td', 'expected', c.expected === null || c.expected === undefined ? '—' : String(c.expected));
    expected.title = c.expected === null || c.expected === undefined ? 'the model cannot tell' : String(c.expected);
    tr.append(
      el('td', 'verdict', verdictText(c.verdict)),
      el('td', 'line', String((c.line | 0) + 1)),
      el('td', 'fd', `${fd} ${c.fdKind || ''}`.trim()),
      el('td', 'request', String(c.request || '')),
      recorded,
      expected,
    );
    if (i === selected) tr.classList.add('selected');
    return tr;
  }

  // Big traces (a VMM's KVM_RUN loop gives 10^5 calls) keep only the rows near the view in the DOM: spacer rows
  // stand for the others, sized through the CSSOM (the CSP forbids style attributes, not element.style).
  const WINDOW_ALL = 600;
  const OVERSCAN = 60;
  let rowH = 20;
  let first = 0;
  let last = 0;
  const scroller = /** @type {HTMLElement} */ (document.querySelector('.calls'));
  function spacer(/** @type {number} */ rows) {
    const tr = el('tr', 'spacer');
    tr.setAttribute('aria-hidden', 'true');
    tr.style.height = rows * rowH + 'px';
    return tr;
  }
  function renderWindow(/** @type {boolean=} */ force) {
    const n = calls.length;
    let a = 0;
    let b = n;
    if (n > WINDOW_ALL) {
      const view = Math.ceil((scroller.clientHeight || 800) / rowH);
      a = Math.max(0, Math.floor(scroller.scrollTop / rowH) - OVERSCAN);
      b = Math.min(n, a + view + 2 * OVERSCAN);
    }
    if (!force && a === first && b === last) return;
    first = a;
    last = b;
    const rows = [];
    if (a > 0) rows.push(spacer(a));
    for (let i = a; i < b; i++) rows.push(makeRow(calls[i], i));
    if (b < n) rows.push(spacer(n - b));
    tbody.replaceChildren(...rows);
    const probe = tbody.querySelector('tr[data-index]');
    const h = probe ? probe.getBoundingClientRect().height : 0;
    if (h > 4 && Math.abs(h - rowH) > 0.5 && n > WINDOW_ALL) {
      rowH = h;
      renderWindow(true);
    }
  }
  let scrollPending = false;
  scroller.addEventListener('scroll', () => {
    if (scrollPending || calls.length <= WINDOW_ALL) return;
    scrollPending = true;
    requestAnimationFrame(() => {
      scrollPending = false;
      renderWindow();
    });
  });
  function rowOf(/** @type {number} */ i) {
    return /** @type {HTMLElement|null} */ (tbody.querySelector(`tr[data-index="${i}"]`));
  }

  function verdictText(/** @type {string} */ v) {
    return v === 'match' ? '✓' : v === 'mismatch' ? '✗' : '?';
  }
  function markSelected(/** @type {number} */ i) {
    selected = i;
    for (const tr of tbody.querySelectorAll('tr.selected')) tr.classList.remove('selected');
    if (i >= 0 && (i < first || i >= last)) {
      // Not in the DOM: scroll there first, then draw that window.
      scroller.scrollTop = Math.max(0, i * rowH - scroller.clientHeight / 2);
      renderWindow();
    }
    const row = i >= 0 ? rowOf(i) : null;
    if (row) {
      row.classList.add('selected');
      row.tabIndex = 0;
      const box = row.getBoundingClientRect();
      const parent = /** @type {HTMLElement} */ (row.closest('.calls')).getBoundingClientRect();
      if (box.top < parent.top + 24 || box.bottom > parent.bottom) row.scrollIntoView({ block: 'center' });
    }
  }
  tbody.addEventListener('click', (ev) => {
    const tr = /** @type {HTMLElement|null} */ (/** @type {HTMLElement} */ (ev.target).closest('tr'));
    if (!tr || tr.dataset.index === undefined) return;
    const i = Number(tr.dataset.index);
    markSelected(i);
    vscode.postMessage({ type: 'pick', index: i });
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'j') { vscode.postMessage({ type: 'step', delta: 1 }); ev.preventDefault(); }
    if (ev.key === 'ArrowUp' || ev.key === 'k') { vscode.postMessage({ type: 'step', delta: -1 }); ev.preventDefault(); }
  });
  $('prev').addEventListener('click', () => vscode.postMessage({ type: 'step', delta: -1 }));
  $('next').addEventListener('click', () => vscode.postMessage({ type: 'step', delta: 1 }));

  // ---- memory picture ----------------------------------------------------------------------------------
  /**
   * Guest physical addresses are sparse (low RAM, a slot at 4 GiB, MMIO far above): a linear axis would hide
   * small slots. The axis is cut into segments (merged memslots and the current call's range), each drawn at
   * a width that grows with the log of its size, with dashed gaps between them; inside a segment it is linear.
   */
  function layout(/** @type {{start: bigint, end: bigint}[]} */ ranges, /** @type {number} */ width) {
    const sorted = ranges.filter((r) => r.end > r.start).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    /** @type {{start: bigint, end: bigint, x: number, w: number}[]} */
    const segs = [];
    for (const r of sorted) {
      const last = segs[segs.length - 1];
      if (last && r.start <= last.end) { if (r.end > last.end) last.end = r.end; }
      else segs.push({ start: r.start, end: r.end, x: 0, w: 0 });
    }
    if (!segs.length) return { segs, x: () => 0 };
    const gapW = 14;
    const avail = Math.max(50, width - gapW * (segs.length - 1));
    const weights = segs.map((s) => 1 + Math.log2(Number(s.end - s.start) / 4096 + 1));
    const total = weights.reduce((a, b) => a + b, 0);
    let x = 0;
    segs.forEach((s, i) => {
      s.x = x;
      s.w = Math.max(8, (avail * weights[i]) / total);
      x += s.w + gapW;
    });
    const scale = x - gapW > width ? width / (x - gapW) : 1;
    for (const s of segs) { s.x *= scale; s.w *= scale; }
    const at = (/** @type {bigint} */ a) => {
      for (const s of segs) {
        if (a >= s.start && a <= s.end) return s.x + (s.w * Number(((a - s.start) * 100000n) / (s.end - s.start))) / 100000;
      }
      const after = segs.filter((s) => s.end < a).pop();
      return after ? after.x + after.w : 0;
    };
    return { segs, x: at };
  }

  function renderMemory(/** @type {any} */ st) {
    const box = $('memory');
    box.replaceChildren();
    slotBody.replaceChildren();
    $('legend').replaceChildren();
    const report = { memslotRects: 0, mappedRects: 0, currentRect: false, pageSizes: /** @type {string[]} */ ([]) };
    // Drawn at the box's real width in CSS pixels, so that 11px text stays 11px whatever the panel's size.
    const W = Math.max(360, Math.floor(box.clientWidth || 600)), LX = 70, PW = W - LX - 10;
    if (!st) {
      const s = svg('svg', { viewBox: `0 0 ${W} 40`, role: 'img', 'aria-label': 'no state' });
      s.append(svg('text', { x: 0, y: 24, class: 'nothing' }, 'Select a KVM call to see guest memory after it.'));
      box.append(s);
      return report;
    }
    const slots = (Array.isArray(st.memslots) ? st.memslots : []).map((m) => ({ m, start: big(m.gpa), size: big(m.size) })).filter((r) => r.start !== null && r.size !== null);
    const mapped = (Array.isArray(st.mapped) ? st.mapped : []).map((m) => ({ m, start: big(m.gpa), size: big(m.size) })).filter((r) => r.start !== null && r.size !== null);
    const cur = st.current && big(st.current.gpa) !== null && big(st.current.size) !== null
      ? { start: /** @type {bigint} */ (big(st.current.gpa)), size: /** @type {bigint} */ (big(st.current.size)), done: big(st.current.doneTo), result: String(st.current.result || '') }
      : null;
    const vms = [...new Set([...slots.map((s) => String(s.m.vm)), ...mapped.map((s) => String(s.m.vm))])];
    if (!vms.length) vms.push('');
    const ranges = [
      ...slots.map((s) => ({ start: s.start, end: s.start + s.size })),
      ...mapped.map((s) => ({ start: s.start, end: s.start + s.size })),
      ...(cur ? [{ start: cur.start, end: cur.start + (cur.size > 0n ? cur.size : 1n) }] : []),
    ];
    const L = layout(ranges, PW);
    const laneH = 26, gap = 8;
    const lanesPerVm = 2;
    const height = 34 + vms.length * (lanesPerVm * (laneH + gap) + 18) + (cur ? laneH + gap + 18 : 0);
    const root = svg('svg', { viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': 'guest physical memory' });
    let y = 4;
    // Axis: the bounds of each segment.
    for (const s of L.segs) {
      root.append(svg('text', { x: LX + s.x, y: y + 10, class: 'axis' }, hex(s.start)));
      const endLabel = svg('text', { x: LX + s.x + s.w, y: y + 22, class: 'axis', 'text-anchor': 'end' }, hex(s.end));
      root.append(endLabel);
    }
    L.segs.forEach((s, i) => {
      if (i === 0) return;
      const prev = L.segs[i - 1];
      const gx = LX + prev.x + prev.w + 2;
      root.append(svg('line', { x1: gx, y1: 30, x2: LX + s.x - 2, y2: 30, class: 'gap' }));
    });
    y = 34;
    for (const vm of vms) {
      if (vms.length > 1 || vm) root.append(svg('text', { x: 0, y: y + 10, class: 'lane-label' }, `VM ${vm}`));
      y += vms.length > 1 || vm ? 14 : 0;
      // memslots lane
      root.append(svg('text', { x: 0, y: y + laneH / 2 + 4, class: 'lane-label' }, 'memslots'));
      for (const s of L.segs) root.append(svg('rect', { x: LX + s.x, y, width: s.w, height: laneH, class: 'lane-bg' }));
      for (const s of slots.filter((s) => String(s.m.vm) === vm)) {
        const x0 = L.x(s.start), x1 = L.x(s.start + s.size);
        const flags = Array.isArray(s.m.flags) ? s.m.flags.map(String) : [];
        const cls = ['slot'];
        if (flags.some((f) => /READONLY/i.test(f))) cls.push('readonly');
        if (flags.some((f) => /GUEST_MEMFD|PRIVATE/i.test(f))) cls.push('private');
        const r = svg('rect', { x: LX + x0, y: y + 1, width: Math.max(1, x1 - x0), height: laneH - 2, class: cls.join(' ') });
        r.append(svg('title', {}, `slot ${s.m.slot} (as ${s.m.addressSpace}): ${hex(s.start)}–${hex(s.start + s.size)} (${human(s.size)})${flags.length ? ' ' + flags.join('|') : ''}`));
        root.append(r);
        report.memslotRects++;
        if (x1 - x0 > 50) root.append(svg('text', { x: LX + x0 + 4, y: y + laneH / 2 + 4, class: 'slot-text' }, `slot ${s.m.slot}${flags.length ? ' ' + flags.join('|') : ''}`));
        const tr = el('tr');
        tr.append(el('td', '', String(s.m.vm)), el('td', '', String(s.m.addressSpace)), el('td', '', String(s.m.slot)), el('td', '', hex(s.start)), el('td', '', human(s.size)), el('td', '', flags.join('|') || '—'));
        slotBody.append(tr);
      }
      y += laneH + gap;
      // pre-faulted mappings lane
      root.append(svg('text', { x: 0, y: y + laneH / 2 + 4, class: 'lane-label' }, 'mapped'));
      for (const s of L.segs) root.append(svg('rect', { x: LX + s.x, y, width: s.w, height: laneH, class: 'lane-bg' }));
      for (const s of mapped.filter((s) => String(s.m.vm) === vm)) {
        const x0 = L.x(s.start), x1 = L.x(s.start + s.size);
        // The server says 'unknown' when the trace does not tell what backs guest memory: drawn as such, not guessed.
        const pg = ['4K', '2M', '1G'].includes(s.m.pageSize) ? s.m.pageSize : 'unknown';
        if (!report.pageSizes.includes(pg)) report.pageSizes.push(pg);
        const r = svg('rect', { x: LX + x0, y: y + 3, width: Math.max(1, x1 - x0), height: laneH - 6, class: 'pg-' + pg });
        r.append(svg('title', {}, `${hex(s.start)}–${hex(s.start + s.size)} (${human(s.size)}) mapped, ${pg === 'unknown' ? 'page size unknown (set kvmLens.replay.hostPages)' : pg + ' pages'}`));
        root.append(r);
        report.mappedRects++;
      }
      y += laneH + gap;
    }
    if (cur) {
      root.append(svg('text', { x: 0, y: y + laneH / 2 + 4, class: 'lane-label' }, 'this call'));
      const x0 = L.x(cur.start), x1 = L.x(cur.start + cur.size);
      if (cur.done !== null && cur.done > cur.start) {
        const xd = L.x(cur.done > cur.start + cur.size ? cur.start + cur.size : cur.done);
        root.append(svg('rect', { x: LX + x0, y: y + 2, width: Math.max(1, xd - x0), height: laneH - 4, class: 'cur-done' }));
      }
      const r = svg('rect', { x: LX + x0, y: y + 1, width: Math.max(2, x1 - x0), height: laneH - 2, class: 'cur-range' });
      const doneText = cur.done === null ? 'progress not recorded' : `done to ${hex(cur.done)}`;
      r.append(svg('title', {}, `KVM_PRE_FAULT_MEMORY ${hex(cur.start)}+${human(cur.size)}: ${doneText}; ${cur.result}`));
      root.append(r);
      report.currentRect = true;
      y += laneH + 4;
      root.append(svg('text', { x: LX + x0, y: y + 10, class: 'axis' }, `${hex(cur.start)} + ${human(cur.size)}: ${doneText} → ${cur.result}`));
    }
    box.append(root);
    // Legend: text only through textContent.
    const legend = $('legend');
    const item = (/** @type {string} */ cls, /** @type {string} */ text) => {
      const span = el('span');
      span.append(el('span', 'swatch ' + cls), document.createTextNode(text));
      legend.append(span);
    };
    item('sw-slot', 'memslot');
    item('sw-4K', '4 KiB pages');
    item('sw-2M', '2 MiB pages');
    item('sw-1G', '1 GiB pages');
    if (report.pageSizes.includes('unknown')) item('sw-unknown', 'page size unknown');
    if (cur) item('sw-cur', 'range of this call (filled: how far it got)');
    return report;
  }

  function renderState(/** @type {any} */ m) {
    state = m.state;
    markSelected(typeof m.index === 'number' ? m.index : -1);
    const call = calls[selected];
    $('detail-title').textContent = call ? `Guest physical memory after line ${call.line + 1}: ${call.request}` : 'Guest physical memory';
    const r = renderMemory(state);
    const md = $('markdown');
    md.innerHTML = typeof m.html === 'string' ? m.html : '';
    vscode.postMessage({
      type: 'rendered',
      report: {
        rows: calls.length,
        renderedRows: tbody.querySelectorAll('tr[data-index]').length,
        selectedRow: selected,
        memslotRects: r.memslotRects,
        mappedRects: r.mappedRects,
        currentRect: r.currentRect,
        pageSizes: r.pageSizes,
        markdownChars: (md.textContent || '').length,
        theme: document.body.className,
        // Elements no page of ours makes: any of them would be markup that came from the trace.
        foreign: document.querySelectorAll('body img, body iframe, body object, body embed, body b, body i, body script:not([nonce]), body [onerror], body [onload]').length,
      },
    });
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (!m || typeof m !== 'object') return;
    if (m.type === 'calls') renderCalls(m);
    else if (m.type === 'state') renderState(m);
    else if (m.type === 'error') {
      const e = $('error');
      e.hidden = false;
      e.textContent = String(m.message || '');
    }
  });
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => renderMemory(state), 100);
  });
  renderMemory(null);
  vscode.postMessage({ type: 'ready' });
})();
