/** The entry policy on its own: decisions and the plan it hands the writer, no file system involved. */
import { describe, expect, it } from "vitest";
import { EntryPolicy, dirMode, fileMode, type EntryHeader } from "../../../src/archive/entry-policy.js";
import { ArchiveError } from "../../../src/archive/error.js";

const caps = { maxBytes: 1000, maxEntries: 100, maxNameLength: 64 };

function admitAll(headers: EntryHeader[], policy = new EntryPolicy(caps)) {
  return headers.map((header) => policy.admit(header));
}

function refused(headers: EntryHeader[], policy = new EntryPolicy(caps)): string {
  try {
    admitAll(headers, policy);
    policy.verifyLinks();
  } catch (error) {
    expect(error).toBeInstanceOf(ArchiveError);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
}

describe("names", () => {
  it("normalises ., empty components and a trailing slash, and keeps a top-level folder", () => {
    const [a, b, c] = admitAll([
      { name: "./app//src/./main.py", type: "file", size: 1 },
      { name: "app/static/", type: "directory" },
      { name: "./", type: "directory" },
    ]);
    expect(a).toMatchObject({ kind: "file", path: "app/src/main.py", parents: ["app", "app/src"] });
    expect(b).toMatchObject({ kind: "dir", path: "app/static", parents: [] });
    expect(c).toMatchObject({ kind: "none", path: "" });
  });

  it("refuses a file whose name is only the deploy folder itself", () => {
    expect(refused([{ name: "./", type: "file" }])).toBe('archive entry "./" has no file name');
  });

  it("refuses NUL bytes in names", () => {
    expect(refused([{ name: "a\0b", type: "file" }])).toBe('archive entry "a\\u0000b" has a NUL byte in its name');
  });

  it("refuses every way out", () => {
    expect(refused([{ name: "..", type: "directory" }])).toBe('archive entry ".." would land outside the deploy folder');
    expect(refused([{ name: "./../x", type: "file" }])).toBe('archive entry "./../x" would land outside the deploy folder');
    expect(refused([{ name: "/x", type: "file" }])).toBe('archive entry "/x" has an absolute path and would land outside the deploy folder');
    expect(refused([{ name: "//x", type: "file" }])).toBe('archive entry "//x" has an absolute path and would land outside the deploy folder');
  });
});

describe("plans", () => {
  it("creates each missing parent folder once", () => {
    const plans = admitAll([
      { name: "a/b/c.txt", type: "file" },
      { name: "a/b/d.txt", type: "file" },
      { name: "a/e/f.txt", type: "file" },
    ]);
    expect(plans.map((plan) => plan.parents)).toEqual([["a", "a/b"], [], ["a/e"]]);
  });

  it("marks a later entry of the same name as a replacement", () => {
    const [first, second, third] = admitAll([
      { name: "x", type: "file" },
      { name: "x", type: "symlink", linkname: "y" },
      { name: "x", type: "directory" },
    ]);
    expect(first!.replace).toBe(false);
    expect(second!.replace).toBe(true);
    expect(third).toMatchObject({ kind: "dir", replace: true });
  });

  it("only changes the mode of a folder that exists, and only when it differs", () => {
    const [, same, other] = admitAll([
      { name: "a/b", type: "file" },
      { name: "a", type: "directory", mode: 0o755 },
      { name: "a", type: "directory", mode: 0o700 },
    ]);
    expect(same).toMatchObject({ kind: "none" });
    expect(other).toMatchObject({ kind: "dir", chmod: true, mode: 0o700 });
  });

  it("gives hard links the target's normalised path", () => {
    const [, link] = admitAll([
      { name: "bin/tool", type: "file" },
      { name: "alias", type: "link", linkname: "./bin//tool" },
    ]);
    expect(link).toMatchObject({ kind: "hardlink", path: "alias", target: "bin/tool" });
  });

  it("treats contiguous files as files", () => {
    expect(admitAll([{ name: "c", type: "contiguous-file", size: 3 }])[0]).toMatchObject({ kind: "file", size: 3 });
  });
});

describe("caps", () => {
  it("counts every entry against max entries, folders and links included", () => {
    const policy = new EntryPolicy({ ...caps, maxEntries: 2 });
    expect(refused([{ name: "d", type: "directory" }, { name: "l", type: "symlink", linkname: "d" }, { name: "f", type: "file" }], policy)).toBe(
      'archive has more than 2 entries, the cap set by archive.max_entries; refused at entry "f"',
    );
  });

  it("counts only regular-file data against max bytes", () => {
    const policy = new EntryPolicy(caps);
    admitAll([{ name: "a", type: "file", size: 600 }, { name: "l", type: "symlink", linkname: "a", size: 0 }], policy);
    expect(policy.bytes).toBe(600);
    expect(refused([{ name: "b", type: "file", size: 401 }], policy)).toBe(
      'archive unpacks to more than 1000 bytes, the cap set by archive.max_bytes; refused at entry "b" (401 bytes, 600 unpacked before it)',
    );
  });

  it("checks hard link targets against max name length", () => {
    expect(refused([{ name: "h", type: "link", linkname: "t".repeat(65) }])).toBe(
      'archive entry "h" is a hard link whose target has 65 bytes, over the cap of 64 set by archive.max_name_length',
    );
  });

  it("shortens a very long name in messages", () => {
    const name = "../" + "x".repeat(300);
    const message = refused([{ name, type: "file" }], new EntryPolicy({ ...caps, maxNameLength: 4096 }));
    expect(message).toBe(`archive entry ${JSON.stringify(name.slice(0, 200))}… (303 characters) would land outside the deploy folder`);
  });
});

describe("links", () => {
  it("follows links of the archive like the kernel when checking a target", () => {
    // "deep/a/b" is two levels down, so "../.." from it is the top: fine.
    admitAll([
      { name: "deep/a/b", type: "directory" },
      { name: "deep/a/b/top", type: "symlink", linkname: "../../.." },
      { name: "via", type: "symlink", linkname: "deep/a/b/top/Procfile" },
    ]);
    // But through a link that points higher than its own depth, the same path escapes.
    expect(
      refused([
        { name: "up", type: "symlink", linkname: "." },
        { name: "esc", type: "symlink", linkname: "up/.." },
      ]),
    ).toBe('archive entry "esc" is a symbolic link to "up/..", which points outside the deploy folder');
  });

  it("refuses a chain that reaches an absolute link", () => {
    const policy = new EntryPolicy(caps);
    expect(
      refused(
        [
          { name: "a", type: "symlink", linkname: "b" },
          { name: "b", type: "symlink", linkname: "/etc" },
        ],
        policy,
      ),
    ).toBe('archive entry "b" is a symbolic link to the absolute path "/etc", outside the deploy folder; links must be relative');
  });

  it("refuses .env as a hard link: it would share its target's mode instead of being owner-only", () => {
    expect(refused([{ name: "public.txt", type: "file" }, { name: "./.env", type: "link", linkname: "public.txt" }])).toBe(
      'archive entry "./.env" is a hard link; .env holds the app\'s secrets and must be a regular file, which sarge makes owner-only',
    );
  });

  it("refuses empty link targets", () => {
    expect(refused([{ name: "s", type: "symlink", linkname: "" }])).toBe('archive entry "s" is a symbolic link with an empty target');
    expect(refused([{ name: "h", type: "link", linkname: "" }])).toBe('archive entry "h" is a hard link with an empty target');
  });

  it("refuses a hard link to itself and one through a symlink", () => {
    expect(refused([{ name: "f", type: "file" }, { name: "f", type: "link", linkname: "f" }])).toBe('archive entry "f" is a hard link to itself');
    expect(
      refused([
        { name: "d/f", type: "file" },
        { name: "s", type: "symlink", linkname: "d" },
        { name: "h", type: "link", linkname: "s/f" },
      ]),
    ).toBe('archive entry "h" is a hard link to "s/f", which goes through "s", a symbolic link made by an earlier entry');
  });
});

describe("modes", () => {
  it("files keep rwx bits and lose setuid, setgid and sticky", () => {
    expect(fileMode(0o4755)).toBe(0o755);
    expect(fileMode(0o2644)).toBe(0o644);
    expect(fileMode(0o1777)).toBe(0o777);
    expect(fileMode(0o600)).toBe(0o600);
    expect(fileMode(undefined)).toBe(0o644);
  });

  it("folders are 0755-ish: owner rwx always, no write for others, r implies x, no special bits", () => {
    expect(dirMode(0o775)).toBe(0o755);
    expect(dirMode(0o3777)).toBe(0o755);
    expect(dirMode(0o555)).toBe(0o755);
    expect(dirMode(0o700)).toBe(0o700);
    expect(dirMode(0o750)).toBe(0o750);
    expect(dirMode(0o644)).toBe(0o755);
    expect(dirMode(0o740)).toBe(0o750);
    expect(dirMode(undefined)).toBe(0o755);
  });
});
