// The build's channel file (nest/channel.ts): written when the channel opens, with the port and
// secret a call needs and for the user alone; gone when it stops; never written twice or late.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildChannel, channelFile } from "../../src/nest/channel.ts";
import type { CallSession } from "../../src/nest/server.ts";

let dir: string | null = null;
afterEach(() => {
  if (dir !== null) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/** A channel whose handler answers every call with exit code 7, in a new build directory. */
function newChannel(): { channel: BuildChannel<null>; calls: { count: number } } {
  dir = mkdtempSync(join(tmpdir(), "nest-channel-"));
  const calls = { count: 0 };
  const handler = {
    early: () => null,
    serve: async (_request: Uint8Array, session: CallSession) => {
      calls.count++;
      session.accept();
      session.finish(7);
    },
  };
  const channel = new BuildChannel(channelFile(join(dir, "builds", "b1")), handler, () => {});
  return { channel, calls };
}

/** Sends a request with `secret` to `port`; resolves with what came back before the end. */
async function call(port: number, secret: string): Promise<string> {
  let reply = "";
  const { promise, resolve } = Promise.withResolvers<string>();
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        socket.write(`${secret}\ndeclare -a __tr_argv=([0]="x")\ndeclare -- __tr_pid="1"\n\0\0\0`);
      },
      data(_socket, chunk) {
        reply += Buffer.from(chunk).toString("latin1");
      },
      close() {
        resolve(reply);
      },
    },
  });
  return promise;
}

const connects = (port: number) =>
  Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
    (socket) => {
      socket.end();
      return true;
    },
    () => false,
  );

test("the file names the channel only once it is open, for the user alone; calls reach the handler", async () => {
  const c = newChannel();
  expect(c.channel.file).toBe(join(dir!, "builds", "b1", "nest-channel"));
  expect(existsSync(c.channel.file)).toBe(false);
  c.channel.open();
  const text = readFileSync(c.channel.file, "latin1");
  expect(text).toMatch(/^\d+:[0-9a-f]{32}\n$/);
  expect(statSync(c.channel.file).mode & 0o777).toBe(0o600);
  const [port, secret] = text.trim().split(":") as [string, string];
  expect(await call(Number(port), secret)).toBe("A\0X7\0");
  expect(c.calls.count).toBe(1);
  // Opening again changes nothing.
  c.channel.open();
  expect(readFileSync(c.channel.file, "latin1")).toBe(text);
  await c.channel.stop();
});

test("stop removes the file and the listener; an open after stop does nothing", async () => {
  const c = newChannel();
  c.channel.open();
  const port = Number(readFileSync(c.channel.file, "latin1").split(":")[0]);
  await c.channel.stop();
  expect(existsSync(c.channel.file)).toBe(false);
  expect(await connects(port)).toBe(false);
  c.channel.open();
  expect(existsSync(c.channel.file)).toBe(false);
});

test("a channel never opened stops without trace", async () => {
  const c = newChannel();
  await c.channel.stop();
  expect(existsSync(c.channel.file)).toBe(false);
});

test("a build directory that cannot be made: no file, no error (calls then run the executable)", async () => {
  const c = newChannel();
  // `builds` is a file, so the build directory cannot be made under it.
  writeFileSync(join(dir!, "builds"), "");
  c.channel.open();
  expect(existsSync(c.channel.file)).toBe(false);
  await c.channel.stop();
});
