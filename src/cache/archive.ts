// PLACEHOLDER so the build works while the real module is written (helper-5 replaces this file).
import type { Result } from "../result.ts";
export function packArchive(_root: string, _paths: string[]): { stream: NodeJS.ReadableStream; done: Promise<Result<void, string>> } {
  throw new Error("not implemented");
}
export async function unpackArchive(_source: AsyncIterable<Uint8Array>, _root: string): Promise<Result<{ files: number }, string>> {
  throw new Error("not implemented");
}
