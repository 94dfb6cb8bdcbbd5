/** Text hygiene for report files: escaping for HTML and Markdown, and characters XML cannot carry. */

/** Escapes text for HTML element content and attribute values: the checker's, which its history pages use. */
export { escapeHtml } from '../../checker/viewer/html';

/** Removes terminal colour codes and the control characters XML 1.0 forbids. */
export function plainText(s: string): string {
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '');
}

/**
 * Text the code under test can shape (a type error quoting its source, its failure's first line) as one line of
 * Markdown's inline code: nothing in it renders (no link, image, emphasis or HTML). The fence is longer than any run of
 * backticks inside.
 */
export function mdCode(s: string): string {
  const shown = plainText(s).replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(shown.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = shown.startsWith('`') || shown.endsWith('`') || shown === '' ? ' ' : '';
  return `${fence}${pad}${shown}${pad}${fence}`;
}

/** Makes text safe inside one Markdown table cell. */
export function mdCell(s: string): string {
  return plainText(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * Text of the code under test for a terminal: carriage returns, escapes and the other control characters (newlines
 * and tabs aside) shown as their Unicode symbols (␍, ␛, ...), so that none can move the cursor, erase or overwrite a
 * line of the grader's (a verdict, a score), or retitle the window.
 */
export function controlsShown(s: string): string {
  return s.replace(/\r(?!\n)|[\x00-\x08\x0B-\x0C\x0E-\x1F\x7F]/g, (ch) =>
    ch === '\x7F' ? '\u2421' : String.fromCharCode(0x2400 + ch.charCodeAt(0)),
  );
}

/** A fenced Markdown code block that cannot be closed early by the text inside it (the fence chosen on the text shown). */
export function mdFence(text: string, info = 'text'): string {
  const shown = plainText(text);
  let fence = '```';
  while (shown.includes(fence)) fence += '`';
  return `${fence}${info}\n${shown}\n${fence}`;
}
