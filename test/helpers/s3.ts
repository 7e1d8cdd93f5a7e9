// Real S3-protocol servers on 127.0.0.1 for tests: s3rver (a fresh bucket per case) and a
// faulty server that refuses, hangs or answers errors, to show the remote cache fails open.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";

/** Static credentials s3rver accepts. */
export const S3_KEY = "S3RVER";
export const S3_SECRET = "S3RVER";

/** A running s3rver. */
export interface S3Server {
  endpoint: string;
  /** Creates an empty bucket. */
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts s3rver on a free port of 127.0.0.1, storing objects in a temp dir. */
export async function startS3(): Promise<S3Server> {
  const { default: S3rver } = await import("s3rver");
  const dir = mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir });
  const info = await server.run();
  const endpoint = `http://127.0.0.1:${info.port}`;
  const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
  const client = new S3Client({
    endpoint,
    region: "eu-central-1",
    forcePathStyle: true,
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_SECRET },
  });
  return {
    endpoint,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async close() {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The environment that points taskrunner at a bucket. */
export function s3Env(endpoint: string, bucket: string): Record<string, string> {
  return {
    TASKRUNNER_S3_ENDPOINT: endpoint,
    TASKRUNNER_AWS_ACCESS_KEY: S3_KEY,
    TASKRUNNER_AWS_SECRET_KEY: S3_SECRET,
    TASKRUNNER_REMOTE_CACHE_BUCKET: bucket,
  };
}

/** How a faulty server misbehaves. */
export type FaultMode =
  /** Accepts connections and never answers. */
  | "hang"
  /** Answers every request with 500. */
  | "500"
  /** GET: 404 NoSuchKey (a miss); PUT/POST: 500. */
  | "500-on-put";

/** A misbehaving S3 endpoint; `requests` records `METHOD path` of each request seen. */
export interface FaultyServer {
  endpoint: string;
  requests: string[];
  close(): Promise<void>;
}

/** Starts a faulty endpoint on 127.0.0.1. */
export async function startFaultyS3(mode: FaultMode): Promise<FaultyServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  // A raw TCP server: "hang" must accept and then say nothing at all, which an HTTP server
  // library would not do.
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = "";
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [method = "?", path = "?"] = buffered.slice(0, buffered.indexOf("\r\n")).split(" ");
      requests.push(`${method} ${path}`);
      buffered = "";
      if (mode === "hang") return;
      const miss = mode === "500-on-put" && (method === "GET" || method === "HEAD");
      const status = miss ? "404 Not Found" : "500 Internal Server Error";
      const body = miss
        ? '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
        : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
export async function refusingEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
