/** Plain-text tables for the terminal; headers ending in "#" are right-aligned. */
export function textTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const right = headers.map((h) => h.endsWith('#'));
  const head = headers.map((h) => (h.endsWith('#') ? h.slice(0, -1).trimEnd() : h));
  const widths = head.map((h, i) => Math.max([...h].length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - [...c].length));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n') + '\n';
}
