import type { InterruptReport } from '../src/index.js';
import { element, formatMs } from './dom.js';

/** The interrupts' latencies, newest first, as they come in. */
export class InterruptLog {
  constructor(private readonly rows: HTMLTableSectionElement) {}

  add(report: InterruptReport): void {
    const requestIds = report.requestId === null ? report.stopped : [report.requestId];
    const cells =
      'error' in report
        ? [element('td', { className: 'failed', text: report.error.message }), element('td', { text: '—' })]
        : [
            element('td', { className: 'ack', text: formatMs(report.outcome.ackMs) }),
            element('td', { className: 'upstream', text: upstreamClosed(report.outcome.ack.upstream_closed_ms, requestIds) }),
          ];
    const row = element(
      'tr',
      {},
      element('td', { className: 'request', text: requestIds.join(', ') || 'all' }),
      element('td', { text: report.reason }),
      ...cells,
    );
    this.rows.prepend(row);
  }
}

/** "—" when no model stream was open (the reply was between model calls, or had ended). */
function upstreamClosed(byRequest: Record<string, number> | undefined, requestIds: string[]): string {
  const times = requestIds.flatMap((id) => {
    const ms = byRequest?.[id];
    return ms === undefined ? [] : [ms];
  });
  return times.length === 0 ? '—' : formatMs(Math.max(...times));
}
