/** What a lab's handout (labN/README.md) says about its named tests: the table under "## The named tests". */

/** One test's row: the part and points the table gives it, where the table has those columns. */
export interface HandoutRow {
  readonly part?: number;
  readonly points?: number;
}

/**
 * The rows of the first table under the handout's "## The named tests" heading, by test name (a row may name
 * several tests, comma-separated). Throws when the handout has no such section or table.
 */
export function namedTestsTable(markdown: string): Map<string, HandoutRow> {
  const start = markdown.search(/^## The named tests\s*$/m);
  if (start < 0) throw new Error('the handout has no "## The named tests" section');
  const rest = markdown.slice(start).split('\n').slice(1);
  const end = rest.findIndex((l) => l.startsWith('## '));
  const lines = (end < 0 ? rest : rest.slice(0, end)).filter((l) => l.trim().startsWith('|'));
  if (lines.length < 2) throw new Error('the handout\'s "## The named tests" section has no table');
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const header = cells(lines[0]).map((h) => h.toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const number = (row: string[], name: string) => (col(name) < 0 ? undefined : Number(row[col(name)]));
  const rows = new Map<string, HandoutRow>();
  for (const line of lines.slice(2)) {
    const row = cells(line);
    for (const name of row[col('test')]
      .split(',')
      .map((n) => n.replace(/`/g, '').trim())
      .filter((n) => n !== '')) {
      rows.set(name, { part: number(row, 'part'), points: number(row, 'points') });
    }
  }
  return rows;
}
