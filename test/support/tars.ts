/** Tars built entry by entry, for archives no real tool would write (hostile ones included). */
import { pack } from "tar-stream";

export interface TarEntry {
  name: string;
  type?: "file" | "link" | "symlink" | "directory" | "character-device" | "block-device" | "fifo";
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
}


/** A tar written by tar-stream's packer, entry by entry, ending with the end-of-archive blocks. */
export async function buildTar(entries: TarEntry[], options: { globalHeader?: string } = {}): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
  const finished = new Promise<void>((resolve) => archive.on("end", () => resolve()));
  for (const { content, ...header } of entries) {
    const hasData = header.type === undefined || header.type === "file";
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (hasData) archive.entry({ mode: 0o644, ...header }, content ?? "", done);
      else archive.entry({ mode: header.type === "directory" ? 0o755 : 0o644, ...header }, done);
    });
  }
  archive.finalize();
  await finished;
  const body = Buffer.concat(chunks);
  return options.globalHeader === undefined ? body : Buffer.concat([paxGlobalHeader(options.globalHeader), body]);
}

/** A pax global header ('g') holding one `comment` record, as `git archive` writes it first. */
export function paxGlobalHeader(comment: string): Buffer {
  return extendedHeader("g", paxRecords({ comment }));
}

/** pax records, "<length> <key>=<value>\n" each (the length counts itself). */
export function paxRecords(records: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(records)
      .map(([key, value]) => {
        const line = (length: number): string => `${length} ${key}=${value}\n`;
        let length = Buffer.byteLength(line(0));
        while (Buffer.byteLength(line(length)) !== length) length = Buffer.byteLength(line(length));
        return line(length);
      })
      .join(""),
  );
}

/** An extended header ('x' and 'g' pax, 'L' and 'K' GNU long names): its header block and its payload padded to whole blocks. */
export function extendedHeader(typeflag: string, payload: Buffer): Buffer {
  const header = rawHeader({ name: typeflag === "g" ? "pax_global_header" : "././@LongLink", size: payload.length, typeflag });
  const padded = Buffer.alloc(Math.ceil(payload.length / 512) * 512);
  payload.copy(padded);
  return Buffer.concat([header, padded]);
}

/** One ustar header block with a correct checksum. */
export function rawHeader(options: { name: string; size: number; typeflag: string; mode?: number; linkname?: string }): Buffer {
  const block = Buffer.alloc(512);
  block.write(options.name, 0, 100, "utf8");
  if (options.linkname !== undefined) block.write(options.linkname, 157, 100, "utf8");
  block.write((options.mode ?? 0o644).toString(8).padStart(7, "0") + "\0", 100, "latin1");
  block.write("0000000\0", 108, "latin1");
  block.write("0000000\0", 116, "latin1");
  block.write(options.size.toString(8).padStart(11, "0") + "\0", 124, "latin1");
  block.write("00000000000\0", 136, "latin1");
  block.write(options.typeflag, 156, "latin1");
  block.write("ustar\0" + "00", 257, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, "latin1");
  return block;
}

/** A valid minimal app (Procfile + app) followed by the given entries. */
export function appWith(extra: TarEntry[]): Promise<Buffer> {
  return buildTar([{ name: "Procfile", content: "web: python3 -m http.server $PORT --bind 127.0.0.1\n" }, ...extra]);
}
