/**
 * The 15-wheel dist of the deploy benchmark: examples/greeting's wheel (what
 * examples/hello imports) plus 14 hand-made wheels in a dependency tree under
 * benchpkg00, each with 44 real-looking modules for pip to byte-compile
 * (writeBenchWheels, which bench/python-env.ts uses too).
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../src/util/package-root.js";
import { writeWheel } from "../../test/support/wheels.js";

export const BENCH_PACKAGES = 14;

/** requirements.txt for examples/hello on that dist; `variant` changes the bytes, so the environment key. */
export function benchRequirements(variant?: string): string {
  return `${variant === undefined ? "" : `# ${variant}\n`}greeting==1.0\nbenchpkg00\n`;
}

/** Writes the 15 wheels into `dist` (created if needed); returns the file names. */
export async function writeBenchDist(dist: string): Promise<string[]> {
  execFileSync("python3", [join(packageRoot, "examples", "greeting", "make_wheel.py"), dist], { stdio: "ignore" });
  await writeBenchWheels(dist, BENCH_PACKAGES);
  return readdirSync(dist).filter((file) => file.endsWith(".whl")).sort();
}

/**
 * `count` wheels benchpkg00.. in a binary dependency tree under benchpkg00 (package i
 * requires 2i+1 and 2i+2), each with 44 real-looking modules to byte-compile; returns their names.
 */
export async function writeBenchWheels(dist: string, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => `benchpkg${String(i).padStart(2, "0")}`);
  for (const [i, name] of names.entries()) {
    const requires = [2 * i + 1, 2 * i + 2].filter((j) => j < names.length).map((j) => `${names[j]}>=1.0`);
    const files: Record<string, string> = { [`${name}/__init__.py`]: `__version__ = "1.${i}"\n` };
    for (let m = 0; m < 44; m++) {
      let body = `"""module ${m} of ${name}"""\nimport functools\n\n`;
      for (let f = 0; f < 40; f++) {
        body += `@functools.lru_cache(maxsize=None)\ndef f${f}(x, y=${f}):\n    total = 0\n    for i in range(x):\n        total += (i * y) % ${f + 7}\n    return {"name": "${name}.${m}.${f}", "total": total}\n\n`;
      }
      files[`${name}/mod${m}.py`] = body;
    }
    await writeWheel(dist, { name, version: `1.${i}`, requires, files, entryPoints: i === 0 ? { [`${name}-cli`]: `${name}:__version__` } : {} });
  }
  return names;
}
