const NEWLINE = 10;

/**
 * Splits a byte stream into lines on byte 10, byte-exact: `\r` and invalid UTF-8 pass through,
 * returned lines exclude the `\n`.
 *
 * Lines are subarrays of the pushed chunks, so chunks must not be reused by the caller (stream
 * readers hand out fresh buffers). A line that spans chunks is kept as a list of pieces and
 * copied once when its newline arrives, so a 1 MiB line in 64 KiB chunks costs one copy, not a
 * quadratic series of concatenations.
 */
export class LineSplitter {
  private pieces: Uint8Array[] = [];
  private piecesLength = 0;

  /** Feeds a chunk; returns the lines it completed, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    const lines: Uint8Array[] = [];
    let nl = chunk.indexOf(NEWLINE);
    if (nl === -1) {
      this.keep(chunk);
      return lines;
    }
    lines.push(this.pieces.length === 0 ? chunk.subarray(0, nl) : this.join(chunk.subarray(0, nl)));
    let start = nl + 1;
    while ((nl = chunk.indexOf(NEWLINE, start)) !== -1) {
      lines.push(chunk.subarray(start, nl));
      start = nl + 1;
    }
    this.keep(chunk.subarray(start));
    return lines;
  }

  /** Ends the stream: the last line if it had no newline, else null. */
  end(): Uint8Array | null {
    if (this.pieces.length === 0) return null;
    if (this.pieces.length === 1) {
      const line = this.pieces[0]!;
      this.pieces = [];
      this.piecesLength = 0;
      return line;
    }
    return this.join(new Uint8Array(0));
  }

  private keep(piece: Uint8Array): void {
    // Empty pieces are never stored, so "some pieces" means "a partial line exists".
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.piecesLength += piece.length;
  }

  /** The pending pieces followed by `last`, as one fresh array; resets the pending state. */
  private join(last: Uint8Array): Uint8Array {
    const line = new Uint8Array(this.piecesLength + last.length);
    let at = 0;
    for (const piece of this.pieces) {
      line.set(piece, at);
      at += piece.length;
    }
    line.set(last, at);
    this.pieces = [];
    this.piecesLength = 0;
    return line;
  }
}

/** Joins byte strings with a one-byte separator (raw inputs with `\n`, debug words with ` `). */
export function joinBytes(parts: Uint8Array[], separator: number): Uint8Array {
  const sep = new Uint8Array([separator]);
  return Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [sep, p])));
}
