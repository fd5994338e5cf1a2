/**
 * The static bodies of the two webview pages (pure, no `vscode`: the webview-script test loads them in
 * Chromium with the media scripts). Everything dynamic is filled in by client/media/*.js from messages.
 */
export const REPLAY_BODY = `<header class="toolbar">
  <button id="prev" type="button" title="Step to previous KVM call">&#8593; Previous</button>
  <button id="next" type="button" title="Step to next KVM call">Next &#8595;</button>
  <span id="file" class="file"></span>
  <span id="summary" class="summary"></span>
</header>
<div id="error" class="error" hidden></div>
<div id="profile" class="profile"></div>
<main class="split">
  <section class="calls" aria-label="KVM calls">
    <table id="calls"><thead><tr><th title="verdict: ✓ match, ✗ mismatch, ? unknown">✓</th><th>line</th><th>fd</th><th>request</th><th>recorded</th><th>model</th></tr></thead><tbody></tbody></table>
    <p id="empty" class="empty" hidden>No KVM calls in this trace.</p>
  </section>
  <section class="detail" aria-label="Guest memory at the selected call">
    <h2 id="detail-title">Guest physical memory</h2>
    <div id="memory"></div>
    <div id="legend" class="legend"></div>
    <table id="slots" class="slots"><thead><tr><th>vm</th><th>as</th><th>slot</th><th>gpa</th><th>size</th><th>flags</th></tr></thead><tbody></tbody></table>
    <article id="markdown" class="markdown"></article>
  </section>
</main>`;

export const PREVIEW_BODY = '<div id="error" class="error" hidden></div><article id="content" class="markdown"></article>';
