import type { Readable } from "node:stream";

export class BodyTooLarge extends Error {}

/**
 * A request body as one Buffer, up to `cap` bytes. A larger body is still
 * read to its end (up to `drainCap`) and thrown away before the refusal, so a
 * client that is still sending reads the 413 instead of a reset connection.
 */
export function readCappedBody(stream: Readable, declaredLength: number, cap: number, drainCap: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (declaredLength > drainCap) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length <= cap) chunks.push(chunk);
      else chunks.length = 0;
      if (length > drainCap) finish(new BodyTooLarge());
    };
    const finish = (error: Error | null): void => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", finish);
      if (error) reject(error);
      else if (length > cap) reject(new BodyTooLarge());
      else resolve(Buffer.concat(chunks, length));
    };
    const onEnd = (): void => finish(null);
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("error", finish);
  });
}
