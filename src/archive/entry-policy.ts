import { ArchiveError, quoteName } from "./error.js";

/**
 * Which archive entries may be unpacked, and where. Pure bookkeeping, no file
 * system access: the policy keeps a model of everything the archive has
 * created so far (the deploy folder starts empty and only the unpacker writes
 * into it, so the model is exact) and decides each entry against it.
 *
 * Rules (docs/security.md, "A hostile archive"):
 * - names are relative; `.`/empty components are dropped; `..` is refused
 *   (as GNU tar skips it); no name may go through a symbolic link that an
 *   earlier entry created (the classic symlink-then-write escape);
 * - symbolic links must resolve inside the folder, following links made by
 *   other entries the way the kernel would; absolute targets are refused;
 * - hard links must name an earlier regular file of the same archive, and
 *   `.env` may not be one (it would keep its target's mode, not 0600);
 * - devices and fifos are refused; so are types tar does not define;
 * - the caps (entries, unpacked bytes, name length) come from etc/sarge.yaml.
 */

export interface ArchiveCaps {
  maxBytes: number;
  maxEntries: number;
  maxNameLength: number;
}

/** The parts of a header (tar-reader.ts) the policy looks at. */
export interface EntryHeader {
  name: string;
  type?: string | null | undefined;
  size?: number | undefined;
  mode?: number | undefined;
  linkname?: string | null | undefined;
}

type NodeKind = "dir" | "file" | "symlink";

interface TreeNode {
  kind: NodeKind;
  /** Mode given to a folder (files: unused). */
  mode: number;
  /** Symbolic link target as written in the archive. */
  target: string;
}

/** What to do for one admitted entry. Paths are relative to the deploy folder, joined with "/". */
export interface Plan {
  kind: "none" | "dir" | "file" | "symlink" | "hardlink";
  /** Entry name as written in the archive (for messages). */
  name: string;
  path: string;
  /** Folders to create first, outermost first (mode 0755 before umask). */
  parents: string[];
  /** Something other than a folder is already at `path`: remove it first (tar semantics: the later entry wins). */
  replace: boolean;
  /** Folder entries: the folder exists already (made for an earlier entry); only set its mode. */
  chmod: boolean;
  mode: number;
  size: number;
  /** Symbolic link: target as written. Hard link: the target's relative path. */
  target: string;
}

/** Regular files keep their permission bits (executable included) minus setuid, setgid and sticky. */
export function fileMode(mode: number | undefined): number {
  return (mode ?? 0o644) & 0o777;
}

/**
 * Folders: 0755-ish. The owner always has rwx (so unpacking into them and removing them works), nobody
 * else may write, and whoever may list a folder may also enter it (r implies x, like chmod a+X).
 */
export function dirMode(mode: number | undefined): number {
  const bits = (mode ?? 0o755) & 0o755;
  return bits | ((bits & 0o444) >> 2) | 0o700;
}

const MAX_LINK_HOPS = 40; // Linux MAXSYMLINKS

/** `prefixes[i]` is the name's first i + 1 components joined with "/"; the last is the whole normalised name. */
type Resolved = { ok: true; prefixes: string[] } | { ok: false; problem: "nul" | "absolute" | "escape" | "dotdot" } | { ok: false; problem: "through"; at: string };

export class EntryPolicy {
  private readonly tree = new Map<string, TreeNode>();
  /** Symbolic links ever made; while 0, no name can go through one (the common case, checked for free). */
  private symlinks = 0;
  /** Parent folder of the last admitted entry, known to be a real folder ("" is the deploy folder). */
  private lastParent = "";
  private entryCount = 0;
  private byteCount = 0;

  constructor(private readonly caps: ArchiveCaps) {}

  /** Entries admitted so far (every entry in the archive, folders and links included). */
  get entries(): number {
    return this.entryCount;
  }

  /** Bytes of regular-file data admitted so far. */
  get bytes(): number {
    return this.byteCount;
  }

  /** Decide one entry; throws ArchiveError naming it when it is refused. Updates the model. */
  admit(header: EntryHeader): Plan {
    const name = header.name;
    const q = (): string => quoteName(name); // only built for a message
    this.entryCount += 1;
    if (this.entryCount > this.caps.maxEntries) {
      throw new ArchiveError(
        `archive has more than ${this.caps.maxEntries} entries, the cap set by archive.max_entries; refused at entry ${q()}`,
      );
    }
    this.checkLength(name, () => `archive entry ${q()} has a name of`);

    const type = header.type;
    switch (type) {
      case "file":
      case "contiguous-file":
      case "directory":
      case "symlink":
      case "link":
        break;
      case "character-device":
      case "block-device":
        throw new ArchiveError(`archive entry ${q()} is a ${type.replace("-", " ")}; device files are not allowed in a deployment`);
      case "fifo":
        throw new ArchiveError(`archive entry ${q()} is a named pipe (fifo); fifos are not allowed in a deployment`);
      default:
        throw new ArchiveError(
          `archive entry ${q()} has an unsupported entry type${type ? ` (${type})` : ""}; only files, folders and links can be unpacked`,
        );
    }

    const resolved = this.resolve(name);
    if (!resolved.ok) throw new ArchiveError(this.nameProblem(q(), resolved));
    const { prefixes } = resolved;
    const path = prefixes[prefixes.length - 1] ?? "";

    const plan: Plan = {
      kind: "none",
      name,
      path,
      parents: [],
      replace: false,
      chmod: false,
      mode: 0,
      size: 0,
      target: "",
    };

    if (prefixes.length === 0) {
      // "./" or "." — the deploy folder itself. Its mode is the caller's business.
      if (type === "directory") return plan;
      throw new ArchiveError(`archive entry ${q()} has no file name`);
    }

    // Every parent must be (or become) a real folder. A folder in the model stays one (nothing may
    // replace it), so the last entry's checked parent needs no second look: entries come folder by folder.
    const parent = prefixes.length > 1 ? prefixes[prefixes.length - 2]! : "";
    for (let i = parent === this.lastParent ? prefixes.length - 1 : 0; i < prefixes.length - 1; i++) {
      const prefix = prefixes[i]!;
      const node = this.tree.get(prefix);
      if (node === undefined) {
        this.tree.set(prefix, { kind: "dir", mode: 0o755, target: "" });
        plan.parents.push(prefix);
      } else if (node.kind === "file") {
        throw new ArchiveError(`archive entry ${q()} needs ${quoteName(prefix)} to be a folder, but an earlier entry made it a file`);
      } else if (node.kind === "symlink") {
        throw new ArchiveError(throughMessage(q(), prefix)); // resolve() already refuses this; kept as a second lock
      }
    }

    this.lastParent = parent;

    const existing = this.tree.get(path);
    if (existing?.kind === "dir") {
      if (type !== "directory") {
        throw new ArchiveError(`archive entry ${q()} would replace the folder ${quoteName(path)} made by an earlier entry`);
      }
      const mode = dirMode(header.mode);
      if (existing.mode !== mode) {
        plan.kind = "dir";
        plan.mode = mode;
        plan.chmod = true;
        existing.mode = mode;
      }
      return plan;
    }
    plan.replace = existing !== undefined;
    const node: TreeNode = { kind: "file", mode: 0, target: "" };

    switch (type) {
      case "directory":
        node.kind = "dir";
        node.mode = dirMode(header.mode);
        plan.kind = "dir";
        plan.mode = node.mode;
        break;

      case "file":
      case "contiguous-file": {
        const size = header.size ?? 0;
        if (this.byteCount + size > this.caps.maxBytes) {
          throw new ArchiveError(
            `archive unpacks to more than ${this.caps.maxBytes} bytes, the cap set by archive.max_bytes; refused at entry ${q()} (${size} bytes, ${this.byteCount} unpacked before it)`,
          );
        }
        this.byteCount += size;
        plan.kind = "file";
        // the app's .env holds its secrets: owner-only from the moment it is created, not after unpacking
        plan.mode = path === ".env" ? fileMode(header.mode) & 0o600 : fileMode(header.mode);
        plan.size = size;
        break;
      }

      case "symlink": {
        const target = header.linkname ?? "";
        if (target === "") throw new ArchiveError(`archive entry ${q()} is a symbolic link with an empty target`);
        this.checkLength(target, () => `archive entry ${q()} is a symbolic link whose target has`);
        if (target.includes("\0")) throw new ArchiveError(`archive entry ${q()} is a symbolic link whose target contains a NUL byte`);
        if (target.startsWith("/")) {
          throw new ArchiveError(
            `archive entry ${q()} is a symbolic link to the absolute path ${quoteName(target)}, outside the deploy folder; links must be relative`,
          );
        }
        node.kind = "symlink";
        node.target = target;
        this.symlinks += 1;
        this.tree.set(path, node); // before the check, so a link through itself is seen as the loop it is
        this.checkLink(path, target);
        plan.kind = "symlink";
        plan.target = target;
        return plan;
      }

      case "link": {
        const raw = header.linkname ?? "";
        const qt = quoteName(raw);
        if (raw === "") throw new ArchiveError(`archive entry ${q()} is a hard link with an empty target`);
        // a hard link shares its target's mode: .env would not be owner-only
        if (path === ".env") throw new ArchiveError(`archive entry ${q()} is a hard link; .env holds the app's secrets and must be a regular file, which sarge makes owner-only`);
        this.checkLength(raw, () => `archive entry ${q()} is a hard link whose target has`);
        const target = this.resolve(raw);
        if (!target.ok) {
          throw new ArchiveError(
            target.problem === "through"
              ? `archive entry ${q()} is a hard link to ${qt}, which goes through ${quoteName(target.at)}, a symbolic link made by an earlier entry`
              : target.problem === "nul"
                ? `archive entry ${q()} is a hard link whose target contains a NUL byte`
                : `archive entry ${q()} is a hard link to ${qt}, outside the deploy folder`,
          );
        }
        const targetPath = target.prefixes[target.prefixes.length - 1] ?? "";
        if (targetPath === path) throw new ArchiveError(`archive entry ${q()} is a hard link to itself`);
        const targetNode = this.tree.get(targetPath);
        if (targetNode?.kind !== "file") {
          throw new ArchiveError(`archive entry ${q()} is a hard link to ${qt}, which is not an earlier regular file in the archive`);
        }
        plan.kind = "hardlink";
        plan.target = targetPath;
        break;
      }
    }

    this.tree.set(path, node);
    return plan;
  }

  /**
   * After the last entry: check every symbolic link again against the final
   * tree, because a later entry can change where an earlier link leads (a link
   * through "a/b/.." is harmless until "a/b" itself becomes a link to "..").
   */
  verifyLinks(): void {
    if (this.symlinks === 0) return;
    for (const [path, node] of this.tree) {
      if (node.kind === "symlink") this.checkLink(path, node.target);
    }
  }

  private checkLength(value: string, what: () => string): void {
    if (value.length * 3 <= this.caps.maxNameLength) return; // UTF-8 needs at most 3 bytes per UTF-16 unit
    const length = Buffer.byteLength(value);
    if (length > this.caps.maxNameLength) {
      throw new ArchiveError(`${what()} ${length} bytes, over the cap of ${this.caps.maxNameLength} set by archive.max_name_length`);
    }
  }

  private nameProblem(q: string, resolved: Exclude<Resolved, { ok: true }>): string {
    switch (resolved.problem) {
      case "nul":
        return `archive entry ${q} has a NUL byte in its name`;
      case "absolute":
        return `archive entry ${q} has an absolute path and would land outside the deploy folder`;
      case "escape":
        return `archive entry ${q} would land outside the deploy folder`;
      case "dotdot":
        return `archive entry ${q} has a ".." component: sarge refuses such names, as GNU tar skips them (git archive never writes one)`;
      case "through":
        return throughMessage(q, resolved.at);
    }
  }

  /**
   * A name relative to the deploy folder, as path components. `..` is
   * refused: named "escape" when it climbs above the folder, and every folder
   * the name goes through before must not be a symbolic link from an earlier entry.
   */
  private resolve(raw: string): Resolved {
    if (raw.includes("\0")) return { ok: false, problem: "nul" };
    if (raw.startsWith("/")) return { ok: false, problem: "absolute" };
    const prefixes: string[] = [];
    let dotdot = false;
    for (const piece of raw.split("/")) {
      if (piece === "" || piece === ".") continue;
      const here = prefixes[prefixes.length - 1];
      if (here !== undefined && this.symlinks > 0 && this.tree.get(here)?.kind === "symlink") {
        return { ok: false, problem: "through", at: here };
      }
      if (piece === "..") {
        if (prefixes.length === 0) return { ok: false, problem: "escape" };
        prefixes.pop();
        dotdot = true;
      } else {
        prefixes.push(here === undefined ? piece : `${here}/${piece}`);
      }
    }
    return dotdot ? { ok: false, problem: "dotdot" } : { ok: true, prefixes };
  }

  /** Throws unless the link at `path` resolves inside the folder, following the archive's other links like the kernel. */
  private checkLink(path: string, target: string): void {
    const outcome = this.followLink(path.split("/").slice(0, -1), target);
    if (outcome === "inside") return;
    const q = quoteName(path);
    if (outcome === "loop") {
      throw new ArchiveError(
        `archive entry ${q} is a symbolic link to ${quoteName(target)} in a loop or a chain of more than ${MAX_LINK_HOPS} links`,
      );
    }
    throw new ArchiveError(`archive entry ${q} is a symbolic link to ${quoteName(target)}, which points outside the deploy folder`);
  }

  private followLink(start: string[], target: string): "inside" | "outside" | "loop" {
    const stack = [...start];
    let queue = target.split("/");
    let hops = 0;
    for (let i = 0; i < queue.length; i++) {
      const piece = queue[i]!;
      if (piece === "" || piece === ".") continue;
      if (piece === "..") {
        if (stack.length === 0) return "outside";
        stack.pop();
        continue;
      }
      stack.push(piece);
      const node = this.tree.get(stack.join("/"));
      if (node?.kind !== "symlink") continue; // missing or a folder/file: resolution goes on by name
      if (++hops > MAX_LINK_HOPS) return "loop";
      if (node.target.startsWith("/")) return "outside";
      stack.pop();
      queue = [...node.target.split("/"), ...queue.slice(i + 1)];
      i = -1;
    }
    return "inside";
  }
}

function throughMessage(q: string, at: string): string {
  return `archive entry ${q} goes through ${quoteName(at)}, a symbolic link made by an earlier entry; unpacking never writes through links`;
}
