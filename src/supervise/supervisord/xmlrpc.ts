/**
 * A small XML-RPC client for supervisord's unix socket (`POST /RPC2`).
 *
 * supervisord answers with Python's xmlrpc marshaller output, so the decoder
 * only needs the XML-RPC value grammar (int/i4, boolean, string, double, nil,
 * array, struct, base64, dateTime.iso8601) and the five XML entities; no XML
 * library is involved. One request per connection (`agent: false`): a unix
 * socket connect costs microseconds and nothing can go stale between calls.
 */
import { request } from "node:http";

import { SargeError, SupervisorNotRunningError } from "../../util/errors.js";

export type XmlRpcValue =
  | string
  | number
  | boolean
  | null
  | Date
  | Buffer
  | XmlRpcValue[]
  | { [key: string]: XmlRpcValue };

/** supervisord's fault codes (supervisor/xmlrpc.py `Faults`). */
export const SupervisordFaults = {
  UNKNOWN_METHOD: 1,
  INCORRECT_PARAMETERS: 2,
  BAD_ARGUMENTS: 3,
  SIGNATURE_UNSUPPORTED: 4,
  SHUTDOWN_STATE: 6,
  BAD_NAME: 10,
  BAD_SIGNAL: 11,
  NO_FILE: 20,
  NOT_EXECUTABLE: 21,
  FAILED: 30,
  ABNORMAL_TERMINATION: 40,
  SPAWN_ERROR: 50,
  ALREADY_STARTED: 60,
  NOT_RUNNING: 70,
  SUCCESS: 80,
  ALREADY_ADDED: 90,
  STILL_RUNNING: 91,
  CANT_REREAD: 92,
} as const;

export type SupervisordFaultName = keyof typeof SupervisordFaults;

export function faultName(code: number): SupervisordFaultName | "UNKNOWN" {
  for (const [name, value] of Object.entries(SupervisordFaults)) {
    if (value === code) return name as SupervisordFaultName;
  }
  return "UNKNOWN";
}

/** A `<fault>` answer: the call reached supervisord and it said no. */
export class XmlRpcFault extends SargeError {
  readonly code: number;
  readonly faultString: string;
  readonly method: string;

  constructor(method: string, code: number, faultString: string) {
    super(`supervisord refused ${method}: ${faultString}`);
    this.code = code;
    this.faultString = faultString;
    this.method = method;
  }

  is(name: SupervisordFaultName): boolean {
    return this.code === SupervisordFaults[name];
  }
}

export function isFault(error: unknown, ...names: SupervisordFaultName[]): error is XmlRpcFault {
  return error instanceof XmlRpcFault && (names.length === 0 || names.some((n) => error.is(n)));
}

/** The answer was not XML-RPC we understand (a bug on one side, or not supervisord). */
export class XmlRpcProtocolError extends SargeError {}

// ---------------------------------------------------------------- encoding

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function encodeValue(value: XmlRpcValue): string {
  if (value === null) return "<value><nil/></value>";
  if (typeof value === "string") return `<value><string>${escapeXml(value)}</string></value>`;
  if (typeof value === "boolean") return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
  if (typeof value === "number") {
    if (Number.isInteger(value)) return `<value><int>${value}</int></value>`;
    if (!Number.isFinite(value)) throw new TypeError(`XML-RPC cannot carry ${value}`);
    return `<value><double>${value}</double></value>`;
  }
  if (value instanceof Date) {
    const iso = value.toISOString().replace(/[-]/g, "").replace(/\.\d+Z$/, "");
    return `<value><dateTime.iso8601>${iso}</dateTime.iso8601></value>`;
  }
  if (Buffer.isBuffer(value)) return `<value><base64>${value.toString("base64")}</base64></value>`;
  if (Array.isArray(value)) return `<value><array><data>${value.map(encodeValue).join("")}</data></array></value>`;
  const members = Object.entries(value)
    .map(([k, v]) => `<member><name>${escapeXml(k)}</name>${encodeValue(v)}</member>`)
    .join("");
  return `<value><struct>${members}</struct></value>`;
}

export function encodeCall(method: string, params: readonly XmlRpcValue[]): string {
  const body = params.map((p) => `<param>${encodeValue(p)}</param>`).join("");
  return `<?xml version="1.0"?>\n<methodCall><methodName>${escapeXml(method)}</methodName><params>${body}</params></methodCall>\n`;
}

// ---------------------------------------------------------------- decoding

type Token = { kind: "open" | "close" | "empty"; name: string } | { kind: "text"; text: string };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_m, ent: string) => {
    switch (ent) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(ent[1] === "x" ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10));
    }
  });
}

function tokenize(xml: string): Token[] {
  const tokens: Token[] = [];
  const re = /<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(xml)) !== null) {
    if (m[1] !== undefined) tokens.push({ kind: "text", text: m[1] });
    else if (m[3] !== undefined) {
      const kind = m[2] === "/" ? "close" : m[4] === "/" ? "empty" : "open";
      tokens.push({ kind, name: m[3] });
    } else if (m[5] !== undefined) tokens.push({ kind: "text", text: decodeEntities(m[5]) });
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private fail(what: string): never {
    throw new XmlRpcProtocolError(`unexpected XML-RPC answer from supervisord: ${what}`);
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** Skip whitespace-only text between structural tags. */
  private skipSpace(): void {
    for (;;) {
      const t = this.peek();
      if (t && t.kind === "text" && t.text.trim() === "") this.pos++;
      else return;
    }
  }

  private text(): string {
    let out = "";
    for (;;) {
      const t = this.peek();
      if (t && t.kind === "text") {
        out += t.text;
        this.pos++;
      } else return out;
    }
  }

  open(name: string): void {
    this.skipSpace();
    const t = this.tokens[this.pos++];
    if (!t || t.kind !== "open" || t.name !== name) this.fail(`expected <${name}>`);
  }

  close(name: string): void {
    this.skipSpace();
    const t = this.tokens[this.pos++];
    if (!t || t.kind !== "close" || t.name !== name) this.fail(`expected </${name}>`);
  }

  /** Next tag name (open or empty) without consuming it, or null at a closing tag / end. */
  nextTag(): { name: string; empty: boolean } | null {
    this.skipSpace();
    const t = this.peek();
    if (!t || t.kind === "close" || t.kind === "text") return null;
    return { name: t.name, empty: t.kind === "empty" };
  }

  value(): XmlRpcValue {
    this.skipSpace();
    const start = this.tokens[this.pos++];
    if (!start || (start.kind !== "open" && start.kind !== "empty") || start.name !== "value") this.fail("expected <value>");
    if (start.kind === "empty") return "";
    // <value>text</value> is a string; <value> <int>..</int> </value> is typed.
    const save = this.pos;
    const bare = this.text();
    const after = this.peek();
    if (after && after.kind === "close" && after.name === "value") {
      this.pos++;
      return bare;
    }
    this.pos = save;
    this.skipSpace();
    const t = this.tokens[this.pos++];
    if (!t || t.kind === "text" || t.kind === "close") this.fail("expected a typed value");
    let result: XmlRpcValue;
    if (t.kind === "empty") {
      if (t.name === "nil") result = null;
      else if (t.name === "string") result = "";
      else if (t.name === "array" || t.name === "struct") result = t.name === "array" ? [] : {};
      else this.fail(`empty <${t.name}/>`);
    } else {
      result = this.typed(t.name);
      const end = this.tokens[this.pos++];
      if (!end || end.kind !== "close" || end.name !== t.name) this.fail(`expected </${t.name}>`);
    }
    this.close("value");
    return result;
  }

  private typed(name: string): XmlRpcValue {
    switch (name) {
      case "string":
        return this.text();
      case "int":
      case "i4":
      case "i8": {
        const s = this.text().trim();
        if (!/^[+-]?\d+$/.test(s)) this.fail(`bad <${name}> ${JSON.stringify(s)}`);
        return Number(s);
      }
      case "double": {
        const n = Number(this.text().trim());
        if (Number.isNaN(n)) this.fail("bad <double>");
        return n;
      }
      case "boolean": {
        const s = this.text().trim();
        if (s !== "0" && s !== "1") this.fail(`bad <boolean> ${JSON.stringify(s)}`);
        return s === "1";
      }
      case "nil":
        return null;
      case "base64":
        return Buffer.from(this.text().replace(/\s+/g, ""), "base64");
      case "dateTime.iso8601": {
        const s = this.text().trim();
        const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(s);
        if (!m) this.fail(`bad <dateTime.iso8601> ${JSON.stringify(s)}`);
        return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
      }
      case "array": {
        const items: XmlRpcValue[] = [];
        const data = this.nextTag();
        if (data?.empty && data.name === "data") {
          this.pos++;
          return items;
        }
        this.open("data");
        while (this.nextTag()?.name === "value") items.push(this.value());
        this.close("data");
        this.skipSpace();
        return items;
      }
      case "struct": {
        const out: { [key: string]: XmlRpcValue } = {};
        while (this.nextTag()?.name === "member") {
          this.open("member");
          this.open("name");
          const key = this.text();
          this.close("name");
          out[key] = this.value();
          this.close("member");
        }
        this.skipSpace();
        return out;
      }
      default:
        this.fail(`unknown type <${name}>`);
    }
  }

  end(): void {
    this.skipSpace();
    if (this.pos !== this.tokens.length) this.fail("trailing content");
  }
}

export type DecodedResponse = { ok: true; value: XmlRpcValue } | { ok: false; code: number; faultString: string };

export function decodeResponse(xml: string): DecodedResponse {
  const p = new Parser(tokenize(xml));
  p.open("methodResponse");
  const tag = p.nextTag();
  if (tag?.name === "fault") {
    p.open("fault");
    const fault = p.value();
    p.close("fault");
    p.close("methodResponse");
    p.end();
    if (typeof fault !== "object" || fault === null || Array.isArray(fault) || fault instanceof Date || Buffer.isBuffer(fault)) {
      throw new XmlRpcProtocolError("unexpected XML-RPC answer from supervisord: fault is not a struct");
    }
    const code = fault["faultCode"];
    const text = fault["faultString"];
    return { ok: false, code: typeof code === "number" ? code : -1, faultString: typeof text === "string" ? text : "" };
  }
  p.open("params");
  p.open("param");
  const value = p.value();
  p.close("param");
  p.close("params");
  p.close("methodResponse");
  p.end();
  return { ok: true, value };
}

// ---------------------------------------------------------------- transport

export interface XmlRpcClientOptions {
  socketPath: string;
  /** Home shown in SupervisorNotRunningError. */
  home: string;
  /** Per-call timeout; calls that wait on supervisord (stopProcess wait=true) pass their own. */
  timeoutMs?: number;
}

export interface MulticallEntry {
  methodName: string;
  params: XmlRpcValue[];
}

export type MulticallResult = { ok: true; value: XmlRpcValue } | { ok: false; fault: XmlRpcFault };

export class XmlRpcClient {
  readonly socketPath: string;
  private readonly home: string;
  private readonly timeoutMs: number;

  constructor(options: XmlRpcClientOptions) {
    this.socketPath = options.socketPath;
    this.home = options.home;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private post(body: string, method: string, timeoutMs: number): Promise<string> {
    return new Promise((resolvePost, reject) => {
      const req = request(
        {
          socketPath: this.socketPath,
          path: "/RPC2",
          method: "POST",
          agent: false,
          headers: {
            "Content-Type": "text/xml",
            "Content-Length": Buffer.byteLength(body),
            Connection: "close",
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) {
              reject(
                new XmlRpcProtocolError(`supervisord answered HTTP ${res.statusCode} to ${method}`, {
                  detail: text.slice(0, 500),
                }),
              );
            } else resolvePost(text);
          });
        },
      );
      req.setTimeout(timeoutMs, () => {
        req.destroy(new SargeError(`supervisord did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`));
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err instanceof SargeError) reject(err);
        else if (err.code === "ENOENT" || err.code === "ECONNREFUSED" || err.code === "ENOTSOCK") {
          const e = new SupervisorNotRunningError(this.home);
          (e as { cause?: unknown }).cause = err;
          reject(e);
        } else {
          reject(new SargeError(`cannot talk to supervisord at ${this.socketPath}: ${err.message}`, { cause: err }));
        }
      });
      req.end(body);
    });
  }

  async call(method: string, params: readonly XmlRpcValue[] = [], options: { timeoutMs?: number } = {}): Promise<XmlRpcValue> {
    const xml = await this.post(encodeCall(method, params), method, options.timeoutMs ?? this.timeoutMs);
    const decoded = decodeResponse(xml);
    if (!decoded.ok) throw new XmlRpcFault(method, decoded.code, decoded.faultString);
    return decoded.value;
  }

  /** `system.multicall`: one round trip, one result or fault per call, in order. */
  async multicall(calls: readonly MulticallEntry[]): Promise<MulticallResult[]> {
    if (calls.length === 0) return [];
    const raw = await this.call("system.multicall", [calls.map((c) => ({ methodName: c.methodName, params: c.params }))]);
    if (!Array.isArray(raw) || raw.length !== calls.length) {
      throw new XmlRpcProtocolError("unexpected XML-RPC answer from supervisord: multicall result length");
    }
    return raw.map((item, i): MulticallResult => {
      const method = calls[i]!.methodName;
      if (Array.isArray(item) && item.length === 1) return { ok: true, value: item[0]! };
      if (item && typeof item === "object" && !Array.isArray(item) && !(item instanceof Date) && !Buffer.isBuffer(item)) {
        const code = item["faultCode"];
        const text = item["faultString"];
        if (typeof code === "number") {
          return { ok: false, fault: new XmlRpcFault(method, code, typeof text === "string" ? text : "") };
        }
      }
      throw new XmlRpcProtocolError(`unexpected XML-RPC answer from supervisord: multicall item for ${method}`);
    });
  }
}
