import type { Report } from './lib/report';
export async function benchClient(report: Report, _o?: unknown): Promise<void> { report.na('client', 'section', 'not written yet'); }
