import { writeSync, closeSync } from "../sys/fs.ts";
import { readLines, type LineReader } from "../task/streams.ts";
import { decodeRequest, REPLY_ERROR, type Request } from "./messages.ts";

/** Answers one request: a reply line to write back, or null for requests that get none. */
export type RequestHandler = (request: Request) => Promise<string | null>;

/** The runner's side of the request/response pipes of one task. */
export interface ProtocolServer {
  /** Resolves once every request received so far has been answered. */
  idle(): Promise<void>;
  /** Stops reading requests and closes the response pipe. */
  close(): void;
  reader: LineReader;
}

/**
 * Serves requests one at a time, in order: a reply always answers the request before it, and a
 * `debug` line lands in the log in the order it was sent.
 */
export function serveRequests(requestFd: number, responseFd: number, handle: RequestHandler): ProtocolServer {
  let queue: Promise<void> = Promise.resolve();
  let closed = false;
  const reader = readLines(requestFd, (line) => {
    const request = decodeRequest(line);
    queue = queue.then(async () => {
      let reply: string | null;
      try {
        reply = await handle(request);
      } catch {
        // Handlers report their own failures; this only keeps a bug from hanging the task.
        reply = REPLY_ERROR;
      }
      if (reply !== null && !closed) reply1(responseFd, reply);
    });
  });
  return {
    reader,
    idle: () => queue,
    close() {
      if (closed) return;
      closed = true;
      reader.abandon();
      closeSync(responseFd);
    },
  };
}

function reply1(fd: number, reply: string): void {
  try {
    writeSync(fd, reply);
  } catch {
    // The task is gone (EPIPE): nobody is waiting for this reply.
  }
}
