import type { Report } from './lib/report';
export async function benchLsp(report: Report, _o?: unknown): Promise<void> { report.na('lsp', 'section', 'not written yet'); }
