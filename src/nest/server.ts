// The listener of a build's nested calls: the top-level runner listens on 127.0.0.1 (never
// beyond loopback), each call on a connection of its own, authenticated by the build's secret.
import type { CallChannel } from "./function.ts";

/** The runner's side of one call: the replies the `taskrunner` function waits for. */
export interface CallSession {
  /** The runner takes the call: from here on the task may run. */
  accept(): void;
  /** The task ended with `code`; the call is over. */
  finish(code: number): void;
  /** The caller runs the executable instead (nothing was done for it here). */
  fallback(): void;
  /** Resolves if the caller goes away (its shell died, its connection closed) before `finish`. */
  readonly gone: Promise<void>;
}

/** What serves the calls: `early` for each call first, then `serve` with what it returned. */
export interface CallHandler<Early> {
  /**
   * Called once the request's first section (the caller's arguments and pid) is in, while
   * the caller is still writing its environment, one line per write: work that needs only the
   * first section is done in that wait. What it returns goes to `serve`; if it throws, `serve`
   * gets undefined.
   */
  early(head: Uint8Array): Early;
  /**
   * Serves one authenticated call, given its whole request (the secret line and the three
   * sections, nest/request.ts parses them); the server waits for it when it stops.
   */
  serve(request: Uint8Array, session: CallSession, early: Early | undefined): Promise<void>;
}

/** The most a request may hold: far above any real environment, far below trouble. */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/**
 * Whether `bytes` holds a whole request yet: the secret line and three NUL-terminated sections.
 * Returns the length of the request, or -1 while more is to come.
 */
export function requestLength(bytes: Uint8Array): number {
  let at = -1;
  for (let nuls = 0; nuls < 3; nuls++) {
    at = bytes.indexOf(0, at + 1);
    if (at === -1) return -1;
  }
  return at + 1;
}

/** The secret line of a request, once its newline has arrived; null before. */
export function secretOf(bytes: Uint8Array): string | null {
  const nl = bytes.indexOf(10);
  return nl < 0 ? null : Buffer.from(bytes.subarray(0, nl)).toString("latin1");
}

/** A listening call server. */
export interface CallServer {
  channel: CallChannel;
  /** Stops taking calls (later ones run the executable) and waits for the calls being served. */
  stop(): Promise<void>;
}

interface Connection<Early> {
  chunks: Uint8Array[];
  size: number;
  nuls: number;
  authenticated: boolean;
  /** What `early` returned, once the first section is in. */
  early: { value: Early | undefined } | null;
  /** Set once the request is complete: later bytes are ignored. */
  taken: boolean;
  /** Set when the connection is refused: what comes is swallowed until it ends, then it closes. */
  refused: ReturnType<typeof setTimeout> | null;
  finished: boolean;
  leave: () => void;
}

const SECRET_BYTES = 16;
/** How long a refused connection may stay silent before it is closed. */
const REFUSED_IDLE_MS = 200;
const MAX_SECRET_LINE = 256;

/**
 * Listens on a free loopback port; null if that is impossible (no loopback, say): the build then
 * runs nested tasks through the executable. `refused` hears of connections without the secret.
 */
export function startCallServer<Early>(handle: CallHandler<Early>, refused: (why: string) => void): CallServer | null {
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(SECRET_BYTES))).toString("hex");
  const serving = new Set<Promise<void>>();
  let stopping = false;
  let listener: Bun.TCPSocketListener<Connection<Early>>;
  try {
    listener = Bun.listen<Connection<Early>>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(socket) {
          socket.data = { chunks: [], size: 0, nuls: 0, authenticated: false, early: null, taken: false, refused: null, finished: false, leave: () => {} };
        },
        data(socket, chunk) {
          const c = socket.data;
          if (c.refused !== null) return swallow(socket, chunk);
          if (c.taken) return;
          c.chunks.push(chunk);
          c.size += chunk.length;
          c.nuls += countNuls(chunk);
          if (c.size > MAX_REQUEST_BYTES) return refuse(socket, "a request larger than the limit");
          if (!c.authenticated) {
            const line = secretOf(joined(c));
            if (line === null) {
              if (c.size > MAX_SECRET_LINE) refuse(socket, "no secret line");
              return;
            }
            if (!sameText(line, secret)) return refuse(socket, "a wrong secret");
            c.authenticated = true;
          }
          if (c.nuls >= 1 && c.early === null && !stopping) c.early = { value: early(joined(c)) };
          if (c.nuls < 3) return;
          c.taken = true;
          const bytes = joined(c);
          const request = bytes.subarray(0, requestLength(bytes));
          c.chunks = [];
          const session = sessionOf(socket);
          if (stopping) return session.fallback();
          const served = handle.serve(request, session, c.early?.value).catch(() => session.finish(1));
          serving.add(served);
          void served.finally(() => serving.delete(served));
        },
        end(socket) {
          socket.data.leave();
        },
        close(socket) {
          socket.data.leave();
        },
        error(socket) {
          socket.data.leave();
        },
      },
    });
  } catch {
    return null;
  }

  // The first section: from after the secret line to the first NUL.
  function early(bytes: Uint8Array): Early | undefined {
    const nl = bytes.indexOf(10);
    try {
      return handle.early(bytes.subarray(nl + 1, bytes.indexOf(0, nl + 1)));
    } catch {
      return undefined;
    }
  }

  // A refused caller may still be writing: hanging up at once would kill a bash with SIGPIPE in
  // the middle of its request. So what it sends is swallowed, and the connection closed when
  // the request ends, when nothing more came for a moment, or when it grows too large.
  function refuse(socket: Bun.Socket<Connection<Early>>, why: string): void {
    const c = socket.data;
    c.taken = true;
    c.chunks = [];
    refused(why);
    c.refused = setTimeout(() => socket.terminate(), REFUSED_IDLE_MS);
    if (c.nuls >= 3) hangUp(socket);
  }

  function swallow(socket: Bun.Socket<Connection<Early>>, chunk: Uint8Array): void {
    const c = socket.data;
    c.size += chunk.length;
    c.nuls += countNuls(chunk);
    if (c.nuls >= 3 || c.size > MAX_REQUEST_BYTES) return hangUp(socket);
    clearTimeout(c.refused ?? undefined);
    c.refused = setTimeout(() => socket.terminate(), REFUSED_IDLE_MS);
  }

  function hangUp(socket: Bun.Socket<Connection<Early>>): void {
    clearTimeout(socket.data.refused ?? undefined);
    socket.terminate();
  }

  return {
    channel: { port: listener.port, secret },
    async stop() {
      stopping = true;
      listener.stop(false);
      while (serving.size > 0) await Promise.all([...serving]);
    },
  };
}

function sessionOf<Early>(socket: Bun.Socket<Connection<Early>>): CallSession {
  const c = socket.data;
  const gone = new Promise<void>((resolve) => {
    c.leave = () => {
      if (!c.finished) resolve();
    };
  });
  const send = (reply: string, last: boolean) => {
    if (c.finished) return;
    if (last) c.finished = true;
    try {
      socket.write(`${reply}\0`);
      if (last) socket.end();
    } catch {
      // The caller is gone: `gone` has told whoever cares.
    }
  };
  return {
    gone,
    accept: () => send("A", false),
    finish: (code) => send(`X${code}`, true),
    fallback: () => send("F", true),
  };
}

// indexOf, not a loop over the bytes: requests are kilobytes, and this code runs cold.
function countNuls(chunk: Uint8Array): number {
  let n = 0;
  for (let at = chunk.indexOf(0); at !== -1; at = chunk.indexOf(0, at + 1)) n++;
  return n;
}

function joined<Early>(c: Connection<Early>): Uint8Array {
  if (c.chunks.length === 1) return c.chunks[0]!;
  const all = Buffer.concat(c.chunks);
  c.chunks = [all];
  return all;
}

/** Compares two texts in time independent of where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
