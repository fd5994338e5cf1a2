// @ts-check
// api.rst preview page: shows the HTML the extension rendered with marked (raw HTML in the source is escaped
// there). The message's html is the only markup set; title and error go through textContent.
(function () {
  const vscode = acquireVsCodeApi();
  const content = /** @type {HTMLElement} */ (document.getElementById('content'));
  const error = /** @type {HTMLElement} */ (document.getElementById('error'));
  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (!m || m.type !== 'show') return;
    error.hidden = !m.error;
    error.textContent = m.error || '';
    content.innerHTML = typeof m.html === 'string' ? m.html : '';
    const headings = content.querySelectorAll('h1,h2,h3,h4,h5,h6');
    vscode.postMessage({
      type: 'rendered',
      report: {
        headings: headings.length,
        textChars: (content.textContent || '').length,
        firstHeading: headings[0] ? headings[0].textContent : '',
      },
    });
  });
  vscode.postMessage({ type: 'ready' });
})();
