import { ConfigError, SargeError } from "../util/errors.js";

/** One request's cap: Nomad answers these reads and registrations at once. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Nomad's HTTP API at one address (`--submit http://ADDR`), with `X-Nomad-Token` when NOMAD_TOKEN is set. */
export class NomadApi {
  readonly address: string;

  constructor(
    address: string,
    private readonly token: string | undefined,
  ) {
    this.address = checkAddress(address);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers["x-nomad-token"] = this.token;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(this.address + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new SargeError(`cannot reach Nomad at ${this.address} (${method} ${path}): ${cause?.code ?? cause?.message ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      const hint = response.status === 403 ? " (set NOMAD_TOKEN to a token allowed to submit jobs)" : "";
      throw new SargeError(`Nomad at ${this.address} answered ${response.status} to ${method} ${path}: ${text.trim().slice(0, 300) || response.statusText}${hint}`);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SargeError(`Nomad at ${this.address} answered ${method} ${path} with something that is not JSON: ${text.slice(0, 120)}`);
    }
  }
}

/** http(s)://host[:port], as NOMAD_ADDR is written; a trailing slash is dropped. */
function checkAddress(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ConfigError(`--submit: "${address}" is not a Nomad address (e.g. http://127.0.0.1:4646)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`--submit: "${address}" is not a Nomad address: Nomad's API is http or https (e.g. http://127.0.0.1:4646)`);
  }
  return address.replace(/\/+$/, "");
}
