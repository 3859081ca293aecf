import type { Readable } from "node:stream";

export interface LineHandlers {
  line(text: string): void;
  /** A line grew past the limit: from then on, what arrives is dropped. */
  overflow(): void;
}

/**
 * Splits a byte stream into newline-terminated UTF-8 lines, never holding
 * more than `maxBytes` of one line: a peer cannot grow our memory without
 * bound. Unlike readline, it adds no 'error' listener of its own, so a reset
 * connection is the stream owner's to handle.
 */
export function readLines(stream: Readable, maxBytes: number, handlers: LineHandlers): void {
  let parts: Buffer[] = [];
  let length = 0;
  const onData = (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      if (length + end - start > maxBytes) return overflow();
      parts.push(chunk.subarray(start, end));
      const text = Buffer.concat(parts).toString("utf8");
      parts = [];
      length = 0;
      start = end + 1;
      handlers.line(text);
    }
    if (length + chunk.length - start > maxBytes) return overflow();
    if (start < chunk.length) parts.push(chunk.subarray(start));
    length += chunk.length - start;
  };
  const overflow = () => {
    stream.off("data", onData);
    parts = [];
    handlers.overflow();
  };
  stream.on("data", onData);
}
