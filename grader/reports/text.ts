/** Text hygiene for report files: escaping for HTML and Markdown, and characters XML cannot carry. */

/** Escapes text for HTML element content and attribute values: the checker's, which its history pages use. */
export { escapeHtml } from '../../checker/viewer/html';

/** Removes terminal colour codes and the control characters XML 1.0 forbids. */
export function plainText(s: string): string {
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '');
}

/** Makes text safe inside one Markdown table cell. */
export function mdCell(s: string): string {
  return plainText(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A fenced Markdown code block that cannot be closed early by the text inside it. */
export function mdFence(text: string, info = 'text'): string {
  let fence = '```';
  while (text.includes(fence)) fence += '`';
  return `${fence}${info}\n${plainText(text)}\n${fence}`;
}
