import { pack, type Headers } from "tar-stream";

export type TarEntry = Headers & { content?: string };

/** A tar built entry by entry, for archives no real tool would write (hostile ones). */
export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise((resolve) => archive.on("end", resolve));
  for (const { content, ...header } of entries) {
    await new Promise<void>((resolve, reject) => archive.entry(header, content ?? "", (error) => (error ? reject(error) : resolve())));
  }
  archive.finalize();
  await finished;
  return Buffer.concat(chunks);
}

/** A valid minimal app (Procfile + app) followed by the given entries. */
export function appWith(extra: TarEntry[]): Promise<Buffer> {
  return buildTar([
    { name: "Procfile", content: "web: python3 -m http.server $PORT --bind 127.0.0.1\n" },
    ...extra,
  ]);
}
