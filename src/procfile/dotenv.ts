import { readFileSync } from "node:fs";
import { SargeError } from "../util/errors.js";
import { splitlines } from "../util/splitlines.js";

/** A .env line that Python's shlex cannot tokenise (honcho crashes with a traceback there). */
export class DotenvError extends SargeError {}

const WORD_CHARS = new Set(
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_" +
    "ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ",
);
const WHITESPACE = new Set([" ", "\t", "\r", "\n"]);
const QUOTES = new Set(["'", '"']);
const ESCAPE = "\\";
const ESCAPED_QUOTES = '"';
const COMMENTERS = "#";

/** Why a line could not be tokenised; the caller adds the file and line. */
class ShlexError extends Error {}

/**
 * A port of Python 3.11 `list(shlex.shlex(line, posix=True))` with the default
 * settings (no punctuation_chars, no whitespace_split). Characters are code
 * points, as in Python.
 */
export function shlexTokens(line: string): string[] {
  const chars = Array.from(line);
  let pos = 0;
  /** Token-level pushback, as `shlex.pushback` (a non-word character that ended a word). */
  const pushback: string[] = [];
  let state: string | null = " ";
  const tokens: string[] = [];

  const readChar = (): string => (pos < chars.length ? chars[pos++]! : "");
  const skipRestOfLine = (): void => {
    // instream.readline(): up to and including the next "\n"
    while (pos < chars.length && chars[pos++] !== "\n");
  };

  const readToken = (): string | null => {
    let quoted = false;
    let escapedState = " ";
    let token = "";
    for (;;) {
      const next = readChar();
      if (state === null) {
        token = "";
        break;
      } else if (state === " ") {
        if (next === "") {
          state = null;
          break;
        } else if (WHITESPACE.has(next)) {
          if (token || quoted) break;
          continue;
        } else if (COMMENTERS.includes(next)) {
          skipRestOfLine();
        } else if (next === ESCAPE) {
          escapedState = "a";
          state = next;
        } else if (WORD_CHARS.has(next)) {
          token = next;
          state = "a";
        } else if (QUOTES.has(next)) {
          state = next;
        } else {
          token = next;
          break;
        }
      } else if (QUOTES.has(state)) {
        quoted = true;
        if (next === "") throw new ShlexError("no closing quotation");
        if (next === state) {
          state = "a";
        } else if (next === ESCAPE && ESCAPED_QUOTES.includes(state)) {
          escapedState = state;
          state = next;
        } else {
          token += next;
        }
      } else if (state === ESCAPE) {
        if (next === "") throw new ShlexError("no escaped character after the trailing backslash");
        // In posix shells, only the quote itself or the escape character may be escaped within quotes.
        if (QUOTES.has(escapedState) && next !== state && next !== escapedState) token += state;
        token += next;
        state = escapedState;
      } else {
        // state "a": inside a word
        if (next === "") {
          state = null;
          break;
        } else if (WHITESPACE.has(next)) {
          state = " ";
          if (token || quoted) break;
          continue;
        } else if (COMMENTERS.includes(next)) {
          skipRestOfLine();
          state = " ";
          if (token || quoted) break;
          continue;
        } else if (QUOTES.has(next)) {
          state = next;
        } else if (next === ESCAPE) {
          escapedState = "a";
          state = next;
        } else if (WORD_CHARS.has(next)) {
          token += next;
        } else {
          pushback.unshift(next);
          state = " ";
          if (token || quoted) break;
          continue;
        }
      }
    }
    if (!quoted && token === "") return null;
    return token;
  };

  for (;;) {
    const token = pushback.length > 0 ? pushback.shift()! : readToken();
    if (token === null) return tokens;
    tokens.push(token);
  }
}

const KEY_START = /^[A-Za-z_]/;
const EXPORT_PREFIX = /^[ \t]*export[ \t]/;

/**
 * Parse .env text as honcho 2.0 does (docs/local.md, "`.env` grammar"): each line (Python
 * splitlines) is tokenised with posix shlex; a line of at least three tokens
 * whose second is `=` and whose first starts with a letter or `_` sets the
 * first token to the concatenation of the rest, with `\n` and `\t` then
 * translated. Other lines are skipped.
 *
 * Deliberate differences: `export KEY=value` is honoured, and a line shlex
 * cannot tokenise (an unterminated quote, a trailing backslash) throws a
 * one-line DotenvError naming `source` and the line number.
 */
export function parseDotenv(text: string, source = ".env"): Map<string, string> {
  const values = new Map<string, string>();
  splitlines(text).forEach((line, index) => {
    let tokens: string[];
    try {
      tokens = shlexTokens(line);
    } catch (error) {
      if (error instanceof ShlexError) {
        throw new DotenvError(`malformed env file ${source}, line ${index + 1}: ${error.message}`);
      }
      throw error;
    }
    if (tokens[0] === "export" && tokens[1] !== "=" && EXPORT_PREFIX.test(line)) tokens.shift();
    if (tokens.length < 3) return;
    const [name, op] = tokens as [string, string];
    if (op !== "=" || !KEY_START.test(name)) return;
    const value = tokens.slice(2).join("").replaceAll("\\n", "\n").replaceAll("\\t", "\t");
    values.set(name, value);
  });
  return values;
}

/**
 * Read and parse env files in order; later files override earlier ones. A
 * missing or unreadable file (or a directory) is skipped silently, as honcho does.
 */
export function readDotenvFiles(paths: string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const path of paths) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw new DotenvError(`malformed env file ${path}: not valid UTF-8`);
    }
    for (const [key, value] of parseDotenv(text, path)) values.set(key, value);
  }
  return values;
}
