/**
 * Weighs a server process from outside, as the operating system sees it: the process that owns the socket listening
 * on a port (found through /proc/net/tcp and the processes' descriptors), and its resident memory and open
 * descriptors from /proc/<pid>/status and /proc/<pid>/fd. Nothing the process itself reports is used.
 */
import * as fs from 'node:fs';

/** A process's weight: resident memory (VmRSS, bytes) and open file descriptors. */
export interface ProcWeight {
  readonly pid: number;
  readonly rssBytes: number;
  readonly fds: number;
}

/** The inode of the socket listening on `port` (IPv4 or IPv6), or undefined. */
function listeningInode(port: number): string | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT, st 0A is LISTEN, the inode is the tenth field.
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') return f[9];
    }
  }
  return undefined;
}

/** The pid of the process holding socket `inode` among the processes this one may read, or undefined. */
function ownerOf(inode: string): number | undefined {
  const target = `socket:[${inode}]`;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${name}/fd/${fd}`) === target) return Number(name);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** The process listening on `port`, or undefined where /proc cannot be read (the grader's sandbox) or has no owner. */
export function findListener(port: number): number | undefined {
  try {
    const inode = listeningInode(port);
    return inode === undefined ? undefined : ownerOf(inode);
  } catch {
    return undefined;
  }
}

/** The weight of process `pid` now, or undefined if it cannot be read. */
export function weighProcess(pid: number): ProcWeight | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!rss) return undefined;
    return { pid, rssBytes: Number(rss[1]) * 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
