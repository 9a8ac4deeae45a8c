import type { InterruptAckPayload, InterruptReport } from '../src/index.js';
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

  /** An interrupt the gateway made, not this page: the user spoke over the reply. */
  addByGateway(ack: InterruptAckPayload): void {
    this.rows.prepend(gatewayRow(ack));
  }
}

/** Stopped by the gateway itself (the user spoke over the reply): no ACK to time, this page sent no INTERRUPT. */
function gatewayRow(ack: InterruptAckPayload): HTMLTableRowElement {
  return element(
    'tr',
    {},
    element('td', { className: 'request', text: ack.interrupted_request_ids.join(', ') }),
    element('td', { text: ack.reason }),
    element('td', { className: 'ack', text: 'by the gateway' }),
    element('td', { className: 'upstream', text: upstreamClosed(ack.upstream_closed_ms, ack.interrupted_request_ids) }),
  );
}

/** "—" when no model stream was open (the reply was between model calls, or had ended). */
function upstreamClosed(byRequest: Record<string, number> | undefined, requestIds: string[]): string {
  const times = requestIds.flatMap((id) => {
    const ms = byRequest?.[id];
    return ms === undefined ? [] : [ms];
  });
  return times.length === 0 ? '—' : formatMs(Math.max(...times));
}
