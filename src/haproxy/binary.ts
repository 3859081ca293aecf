import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { SargeError } from "../util/errors.js";

/** Where Debian and most distributions put haproxy; non-root PATHs often lack them. */
export const SBIN_DIRS: readonly string[] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface ResolveBinOptions {
  /** PATH to search; defaults to process.env.PATH. */
  pathEnv?: string | undefined;
  /** Folder a relative haproxy_bin (one containing "/") is taken from; defaults to the current folder. */
  baseDir?: string;
}

/**
 * The absolute path of the haproxy executable named by `haproxy_bin`: a path
 * is used as given (relative to `baseDir`), a bare name is looked up on PATH
 * and then in /usr/local/sbin, /usr/sbin and /sbin.
 */
export function resolveHaproxyBin(haproxyBin: string, options: ResolveBinOptions = {}): string {
  if (haproxyBin.trim() === "") {
    throw new SargeError("haproxy_bin in etc/sarge.yaml is empty; set it to haproxy or the path of the haproxy executable");
  }
  if (haproxyBin.includes("/")) {
    const path = isAbsolute(haproxyBin) ? haproxyBin : resolve(options.baseDir ?? process.cwd(), haproxyBin);
    if (isExecutableFile(path)) return path;
    throw new SargeError(`HAProxy executable ${path} (haproxy_bin) does not exist or is not executable`, {
      detail: "Install HAProxy (Debian: apt-get install haproxy) or fix haproxy_bin in etc/sarge.yaml.",
    });
  }
  const pathDirs = (options.pathEnv ?? process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const dirs = [...new Set([...pathDirs, ...SBIN_DIRS])];
  for (const dir of dirs) {
    const candidate = join(dir, haproxyBin);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new SargeError(`HAProxy executable "${haproxyBin}" (haproxy_bin) was not found on PATH or in ${SBIN_DIRS.join(", ")}`, {
    detail: `Searched: ${dirs.join(delimiter)}\nInstall HAProxy (Debian: apt-get install haproxy) or set haproxy_bin in etc/sarge.yaml to its full path.`,
  });
}
