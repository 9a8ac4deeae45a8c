export type Row = [figure: string, gateway: string, floor: string, ratio: string];

export function ratio(ours: number, floor: number): string {
  return Number.isFinite(ours / floor) ? `${(ours / floor).toFixed(2)}×` : 'n/a';
}

/** A Markdown table, ready for the README. */
export function printTable(title: string, rows: Row[]): void {
  const lines = [
    `| ${title} | gateway | floor | gateway/floor (cost) |`,
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
