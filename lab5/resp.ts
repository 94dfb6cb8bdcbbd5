/**
 * RESP2, the Redis wire protocol — GIVEN, do not change. See lab5/README.md, "The protocol".
 *
 * Server side: `RequestParser` turns the bytes of one connection into commands (arrays of argument strings),
 * however the bytes are split into chunks, and refuses malformed or oversized input with a `ProtocolError`.
 * The `reply` helpers encode answers. Client side: `encodeCommand` and `ReplyParser`.
 *
 * Strings on the server are *byte strings*: every character is one byte (Node's 'latin1' encoding), so any
 * bytes a client sends come back unchanged. Write encoded replies with `socket.write(text, 'latin1')`.
 */

/** Limits that keep one bad client from taking the server's memory. */
export interface RespLimits {
  /** Largest bulk string accepted, bytes (default 64 MiB; Redis allows 512 MiB). */
  maxBulkBytes: number;
  /** Most arguments in one command (default 1,048,576, as in Redis). */
  maxArgs: number;
  /** Longest inline command or header line, bytes (default 64 KiB, as in Redis). */
  maxLineBytes: number;
  /** Most bytes in all the arguments of one command, counted as their lengths are declared (default 256 MiB). */
  maxCommandBytes: number;
}

/** The default limits. */
export const DEFAULT_LIMITS: RespLimits = {
  maxBulkBytes: 64 * 1024 * 1024,
  maxArgs: 1024 * 1024,
  maxLineBytes: 64 * 1024,
  maxCommandBytes: 256 * 1024 * 1024,
};

/** Input that is not RESP, or exceeds a limit. Reply `reply.error(err.message)` and close the connection. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

const CR = 13;
const LF = 10;

/**
 * Incremental parser of client requests: `push` each chunk read from the socket, then call `next` until it
 * returns undefined (the rest of the command has not arrived yet). Accepts RESP arrays of bulk strings
 * (what clients send) and inline commands (`PING\r\n`, typed by hand with nc or telnet).
 * After a ProtocolError the parser is unusable: close the connection.
 */
export class RequestParser {
  private readonly limits: RespLimits;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks held back while a long bulk string arrives, so it is copied once, not once per chunk. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes needed before parsing can go on (0 = unknown, parse whenever data arrives). */
  private need = 0;
  /** The command being read: arguments still expected and those read so far. */
  private argsLeft = 0;
  private args: string[] = [];
  /** Bytes of the command's arguments declared so far (against maxCommandBytes). */
  private commandBytes = 0;
  /** Length of the bulk string whose header was read, or -1. */
  private bulkLen = -1;
  private failed: ProtocolError | undefined;

  constructor(limits: Partial<RespLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Adds bytes read from the connection. */
  push(chunk: Buffer): void {
    if (this.need > 0 && this.available() + this.heldBytes + chunk.length < this.need) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return;
    }
    const rest = this.buf.subarray(this.pos);
    this.buf = rest.length === 0 && this.held.length === 0 ? chunk : Buffer.concat([rest, ...this.held, chunk]);
    this.pos = 0;
    this.held = [];
    this.heldBytes = 0;
    this.need = 0;
  }

  /** Bytes received but not yet part of a returned command. */
  get bufferedBytes(): number {
    return this.available() + this.heldBytes;
  }

  /** The next complete command (its arguments; the first is the command name), or undefined. Throws ProtocolError. */
  next(): string[] | undefined {
    if (this.failed) throw this.failed;
    try {
      return this.parse();
    } catch (err) {
      if (err instanceof ProtocolError) this.failed = err;
      throw err;
    }
  }

  private available(): number {
    return this.buf.length - this.pos;
  }

  private parse(): string[] | undefined {
    for (;;) {
      if (this.argsLeft === 0) {
        if (this.available() === 0) return undefined;
        if (this.buf[this.pos] !== 0x2a /* '*' */) {
          const inline = this.inline();
          if (inline === undefined) return undefined;
          if (inline.length === 0) continue; // an empty line: ignored, as Redis does
          return inline;
        }
        const count = this.header('ERR Protocol error: invalid multibulk length');
        if (count === undefined) return undefined;
        if (count > this.limits.maxArgs) throw new ProtocolError('ERR Protocol error: invalid multibulk length');
        if (count <= 0) continue; // "*0" or "*-1": nothing to run
        this.argsLeft = count;
        this.args = [];
        this.commandBytes = 0;
      }
      while (this.argsLeft > 0) {
        if (this.bulkLen < 0) {
          if (this.available() === 0) return undefined;
          if (this.buf[this.pos] !== 0x24 /* '$' */) {
            throw new ProtocolError(
              `ERR Protocol error: expected '$', got '${String.fromCharCode(this.buf[this.pos])}'`,
            );
          }
          const len = this.header('ERR Protocol error: invalid bulk length');
          if (len === undefined) return undefined;
          if (len < 0 || len > this.limits.maxBulkBytes)
            throw new ProtocolError('ERR Protocol error: invalid bulk length');
          this.commandBytes += len;
          if (this.commandBytes > this.limits.maxCommandBytes)
            throw new ProtocolError(`ERR Protocol error: command larger than ${this.limits.maxCommandBytes} bytes`);
          this.bulkLen = len;
        }
        if (this.available() < this.bulkLen + 2) {
          this.need = this.bulkLen + 2;
          return undefined;
        }
        const end = this.pos + this.bulkLen;
        if (this.buf[end] !== CR || this.buf[end + 1] !== LF)
          throw new ProtocolError('ERR Protocol error: bulk string not followed by CRLF');
        this.args.push(this.buf.toString('latin1', this.pos, end));
        this.pos = end + 2;
        this.bulkLen = -1;
        this.argsLeft--;
      }
      const args = this.args;
      this.args = [];
      return args;
    }
  }

  /**
   * Reads a header line such as `*3` or `$5` at pos: the type byte, an integer of at most 18 digits, CRLF.
   * Returns the integer and moves past the line, or undefined (pos unchanged) if the line has not all arrived.
   * The digits are read straight from the buffer: this runs for every argument of every command.
   */
  private header(invalid: string): number | undefined {
    const buf = this.buf;
    let i = this.pos + 1;
    const negative = buf[i] === 0x2d; /* '-' */
    if (negative) i++;
    const first = i;
    let n = 0;
    for (; i < buf.length; i++) {
      const c = buf[i];
      if (c >= 0x30 && c <= 0x39) {
        if (i - first >= 18) throw new ProtocolError(invalid);
        n = n * 10 + (c - 0x30);
        continue;
      }
      if (c !== CR || i === first) throw new ProtocolError(invalid);
      if (i + 1 >= buf.length) return undefined;
      if (buf[i + 1] !== LF) throw new ProtocolError('ERR Protocol error: a header line must end with CRLF');
      this.pos = i + 2;
      return negative ? -n : n;
    }
    return undefined; // digits so far, CRLF not yet arrived (at most 20 bytes: no limit needed)
  }

  /**
   * An inline command: a line ended by LF (CRLF also fine), split into words as Redis's `sdssplitargs` does:
   * blanks separate words; "double quotes" allow spaces and the escapes \n \r \t \b \a \xHH \" \\;
   * 'single quotes' allow spaces and \'. A closing quote must be followed by a blank or the end of the line,
   * and an unclosed quote is a ProtocolError.
   */
  private inline(): string[] | undefined {
    const end = this.buf.indexOf(LF, this.pos);
    if (end < 0) {
      if (this.available() > this.limits.maxLineBytes)
        throw new ProtocolError('ERR Protocol error: too big inline request');
      return undefined;
    }
    if (end - this.pos > this.limits.maxLineBytes)
      throw new ProtocolError('ERR Protocol error: too big inline request');
    const lineEnd = end > this.pos && this.buf[end - 1] === CR ? end - 1 : end;
    const text = this.buf.toString('latin1', this.pos, lineEnd);
    this.pos = end + 1;
    const words = splitArgs(text);
    if (words === undefined) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    if (words.length > this.limits.maxArgs)
      throw new ProtocolError('ERR Protocol error: too many arguments in inline request');
    return words;
  }
}

/** C's isspace. */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

/** Splits an inline line into words as Redis's sdssplitargs does (a NUL byte ends the line); undefined: unbalanced quotes. */
function splitArgs(line: string): string[] | undefined {
  const nul = line.indexOf('\0');
  const s = nul < 0 ? line : line.slice(0, nul);
  const ch = (i: number): string => (i < s.length ? s[i] : '');
  const hex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
  const words: string[] = [];
  let p = 0;
  for (;;) {
    while (p < s.length && isSpace(s[p])) p++;
    if (p >= s.length) return words;
    let word = '';
    let quote: '"' | "'" | undefined;
    for (let done = false; !done;) {
      const c = ch(p);
      if (quote === '"') {
        if (c === '\\' && ch(p + 1) === 'x' && hex(ch(p + 2)) && hex(ch(p + 3))) {
          word += String.fromCharCode(parseInt(s.slice(p + 2, p + 4), 16));
          p += 3;
        } else if (c === '\\' && ch(p + 1) !== '') {
          p++;
          const e = ch(p);
          word += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (ch(p + 1) !== '' && !isSpace(ch(p + 1))) return undefined;
          done = true;
        } else if (c === '') {
          return undefined;
        } else {
          word += c;
        }
      } else if (quote === "'") {
        if (c === '\\' && ch(p + 1) === "'") {
          p++;
          word += "'";
        } else if (c === "'") {
          if (ch(p + 1) !== '' && !isSpace(ch(p + 1))) return undefined;
          done = true;
        } else if (c === '') {
          return undefined;
        } else {
          word += c;
        }
      } else if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '') {
        done = true;
      } else if (c === '"' || c === "'") {
        quote = c;
      } else {
        word += c;
      }
      if (c !== '') p++;
    }
    words.push(word);
  }
}

/** Encoders of server replies. Each returns the reply's wire text (latin1); join several and write them at once. */
export const reply = {
  /** A simple string, e.g. `+OK`. Must not contain CR or LF. */
  simple(text: string): string {
    return `+${text}\r\n`;
  },
  /** An error reply, e.g. `-ERR unknown command 'FOO'`. The first word is the error kind (ERR, WRONGTYPE, ...). Each CR or LF becomes a space, as in Redis. */
  error(message: string): string {
    return `-${message.replace(/[\r\n]/g, ' ')}\r\n`;
  },
  /** An integer reply, e.g. `:1`; a bigint for values beyond 2^53 (Redis's integers are 64-bit). */
  integer(n: number | bigint): string {
    return `:${typeof n === 'bigint' ? n : Math.trunc(n)}\r\n`;
  },
  /** A bulk string (binary-safe; a byte string as the parser produces), or the nil reply for null. */
  bulk(value: string | null): string {
    return value === null ? '$-1\r\n' : `$${value.length}\r\n${value}\r\n`;
  },
  /** An array of bulk strings. */
  bulkArray(values: readonly string[]): string {
    let out = `*${values.length}\r\n`;
    for (const v of values) out += `$${v.length}\r\n${v}\r\n`;
    return out;
  },
  /** An array of already encoded replies (e.g. `reply.array([reply.integer(1), reply.bulk('a')])`). */
  array(encoded: readonly string[]): string {
    return `*${encoded.length}\r\n${encoded.join('')}`;
  },
  /** The reply `+OK`. */
  ok: '+OK\r\n',
  /** The nil reply. */
  nil: '$-1\r\n',
};

/** Encodes a command as a client sends it: an array of bulk strings (strings are sent as UTF-8). */
export function encodeCommand(args: ReadonlyArray<string | number | Buffer>): Buffer {
  // Measured first, then written into one buffer: each argument is copied once.
  const words = args.map((a) => (Buffer.isBuffer(a) ? a : String(a)));
  const lengths = words.map((w) => (typeof w === 'string' ? Buffer.byteLength(w, 'utf8') : w.length));
  const head = `*${args.length}\r\n`;
  let total = head.length;
  for (const n of lengths) total += `$${n}\r\n`.length + n + 2;
  const out = Buffer.allocUnsafe(total);
  let at = out.write(head, 0, 'latin1');
  words.forEach((w, i) => {
    at += out.write(`$${lengths[i]}\r\n`, at, 'latin1');
    at += typeof w === 'string' ? out.write(w, at, 'utf8') : w.copy(out, at);
    at += out.write('\r\n', at, 'latin1');
  });
  return out;
}

/** An error reply received by a client. */
export class RespError {
  readonly message: string;

  constructor(message: string) {
    this.message = message;
  }
  /** The error kind: the first word, e.g. "ERR". */
  get kind(): string {
    return this.message.split(' ', 1)[0];
  }
  toString(): string {
    return this.message;
  }
}

/** A reply as a client sees it: simple and bulk strings are strings, nil is null. */
export type RespReply = string | number | null | RespError | RespReply[];

/** A malformed reply from a server. */
export class ReplyFormatError extends Error {
  override name = 'ReplyFormatError';
}

/**
 * Incremental parser of server replies (client side): `push` chunks, then `next` until undefined.
 * Bulk strings are decoded with `encoding` (UTF-8 by default).
 */
export class ReplyParser {
  private readonly encoding: BufferEncoding;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks held back while a long reply arrives, so that it is copied once, not once per chunk. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Bytes (from pos) needed before the reply at pos can be complete (0 = unknown: parse whenever data arrives). */
  private need = 0;
  /** Where the bulk string that last stopped a parse ends, with its CRLF (an offset into buf). */
  private bulkEnd = 0;

  constructor(encoding: BufferEncoding = 'utf8') {
    this.encoding = encoding;
  }

  /** Adds bytes read from the connection. */
  push(chunk: Buffer): void {
    const available = this.buf.length - this.pos;
    if (this.need > 0 && available + this.heldBytes + chunk.length < this.need) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return;
    }
    const rest = this.buf.subarray(this.pos);
    this.buf = rest.length === 0 && this.held.length === 0 ? chunk : Buffer.concat([rest, ...this.held, chunk]);
    this.pos = 0;
    this.held = [];
    this.heldBytes = 0;
    this.need = 0;
  }

  /** The next complete reply, or undefined if it has not all arrived. Throws ReplyFormatError. */
  next(): RespReply | undefined {
    const start = this.pos;
    this.bulkEnd = 0;
    const value = this.value();
    if (value === undefined) {
      // Try again from the reply's start once more data arrives; when a bulk string stopped the parse, only once
      // its last byte is in (a megabyte arriving in 64 kB reads would otherwise be copied at each read).
      this.need = Math.max(0, this.bulkEnd - start);
      this.pos = start;
      return undefined;
    }
    return value.v;
  }

  /** Parses one value at pos; undefined when incomplete (pos is then meaningless). */
  private value(): { v: RespReply } | undefined {
    const end = this.buf.indexOf(LF, this.pos);
    if (end < 0) return undefined;
    const type = this.buf[this.pos];
    const line = this.buf.toString('latin1', this.pos + 1, end - 1);
    this.pos = end + 1;
    switch (type) {
      case 0x2b: // '+'
        return { v: line };
      case 0x2d: // '-'
        return { v: new RespError(line) };
      case 0x3a: // ':'
        return { v: Number(line) };
      case 0x24: {
        // '$'
        const len = Number(line);
        if (len < 0) return { v: null };
        if (this.buf.length - this.pos < len + 2) {
          this.bulkEnd = this.pos + len + 2;
          return undefined;
        }
        const text = this.buf.toString(this.encoding, this.pos, this.pos + len);
        this.pos += len + 2;
        return { v: text };
      }
      case 0x2a: {
        // '*'
        const count = Number(line);
        if (count < 0) return { v: null };
        const items: RespReply[] = [];
        for (let i = 0; i < count; i++) {
          const item = this.value();
          if (item === undefined) return undefined;
          items.push(item.v);
        }
        return { v: items };
      }
      default:
        throw new ReplyFormatError(
          `unexpected reply type byte 0x${(type ?? 0).toString(16)} (${JSON.stringify(line.slice(0, 40))})`,
        );
    }
  }
}
