/** Which KVNode the lab 4 tools run: yours in lab4/, or with --solution the reference (in the course kit only). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { implFolder, NoSolutionError } from '../../suite/solution';
import { REPO_ROOT } from './lib';
import { SettingsError } from './settings';

/** What --solution says where there is no reference solution (the kit's one wording, from suite/solution). */
export const NO_SOLUTION = new NoSolutionError('lab4').message;

/** The folder (relative to the repository) of the KVNode to run; a SettingsError when it has no server.ts. */
export function implDirFor(solution: boolean, root = REPO_ROOT): string {
  let dir: string;
  try {
    dir = implFolder('lab4', solution, root);
  } catch (err) {
    if (err instanceof NoSolutionError) throw new SettingsError(err.message);
    throw err;
  }
  serverFile(dir, root);
  return path.relative(root, dir);
}

/** The absolute path of `dir`/server.ts; a SettingsError saying what is missing. */
export function serverFile(dir: string, root = REPO_ROOT): string {
  const file = path.join(path.resolve(root, dir), 'server.ts');
  if (fs.existsSync(file)) return file;
  throw new SettingsError(
    `There is no ${path.relative(root, file) || file}: the node's code must be in server.ts in that folder.`,
  );
}
