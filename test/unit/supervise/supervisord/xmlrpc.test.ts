import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { SupervisorNotRunningError } from "../../../../src/util/errors.js";
import { SupervisordClient } from "../../../../src/supervise/supervisord/client.js";
import {
  decodeResponse,
  encodeCall,
  faultName,
  isFault,
  XmlRpcClient,
  XmlRpcFault,
  XmlRpcProtocolError,
  type XmlRpcValue,
} from "../../../../src/supervise/supervisord/xmlrpc.js";

// Written by Python's xmlrpc.client.dumps(..., methodresponse=True), the marshaller supervisord uses.
const PY_RESPONSE =
  "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>name</name>\n" +
  "<value><string>web</string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>12</int></value>\n</member>\n<member>\n" +
  "<name>spawnerr</name>\n<value><string></string></value>\n</member>\n<member>\n<name>amp</name>\n" +
  "<value><string>a&lt;b&gt;&amp;\"c\" 'd' ✓</string></value>\n</member>\n</struct></value>\n<value><array><data>\n" +
  "<value><boolean>1</boolean></value>\n<value><boolean>0</boolean></value>\n<value><double>1.5</double></value>\n" +
  "<value><int>-3</int></value>\n<value><array><data>\n</data></array></value>\n<value><struct>\n</struct></value>\n" +
  "</data></array></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

const PY_FAULT =
  "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n" +
  "</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: nope</string></value>\n</member>\n</struct></value>\n" +
  "</fault>\n</methodResponse>\n";

const response = (valueXml: string) =>
  `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${valueXml}\n</param>\n</params>\n</methodResponse>\n`;

describe("decodeResponse", () => {
  test("Python marshaller output: structs, arrays, all scalar types, entities, UTF-8, empties", () => {
    expect(decodeResponse(PY_RESPONSE)).toEqual({
      ok: true,
      value: [{ name: "web", pid: 12, spawnerr: "", amp: `a<b>&"c" 'd' ✓` }, [true, false, 1.5, -3, [], {}]],
    });
  });

  test("faults carry code and string", () => {
    expect(decodeResponse(PY_FAULT)).toEqual({ ok: false, code: 10, faultString: "BAD_NAME: nope" });
  });

  test("bare <value>text</value> is a string, whitespace inside <string> is kept, numeric entities decode", () => {
    expect(decodeResponse(response("<value>plain</value>"))).toEqual({ ok: true, value: "plain" });
    expect(decodeResponse(response("<value><string>  </string></value>"))).toEqual({ ok: true, value: "  " });
    expect(decodeResponse(response("<value></value>"))).toEqual({ ok: true, value: "" });
    expect(decodeResponse(response("<value><string>&#65;&#x42;</string></value>"))).toEqual({ ok: true, value: "AB" });
    expect(decodeResponse(response("<value><nil/></value>"))).toEqual({ ok: true, value: null });
    expect(decodeResponse(response("<value><i4>7</i4></value>"))).toEqual({ ok: true, value: 7 });
  });

  test("malformed answers are protocol errors, not crashes", () => {
    expect(() => decodeResponse("<html>502</html>")).toThrow(XmlRpcProtocolError);
    expect(() => decodeResponse(response("<value><int>x</int></value>"))).toThrow(/bad <int>/);
    expect(() => decodeResponse(response("<value><int>1</int>"))).toThrow(XmlRpcProtocolError);
  });
});

describe("encodeCall", () => {
  test("escapes markup and types numbers, booleans, arrays, structs", () => {
    const xml = encodeCall("supervisor.startProcess", ["a<&>b", false]);
    expect(xml).toContain("<methodName>supervisor.startProcess</methodName>");
    expect(xml).toContain("<value><string>a&lt;&amp;&gt;b</string></value>");
    expect(xml).toContain("<value><boolean>0</boolean></value>");
  });

  test("Python's xmlrpc parser reads what we send", async () => {
    const params: XmlRpcValue[] = ["héllo <&> \"'", 42, -1, 2.5, true, [1, "x", []], { a: { b: [false] } }, null];
    const { stdout } = await execa("python3", [
      "-c",
      "import sys,json,xmlrpc.client as x; p,m=x.loads(sys.stdin.read(), use_builtin_types=True); print(json.dumps([m, list(p)]))",
    ], { input: encodeCall("system.multicall", params) });
    expect(JSON.parse(stdout)).toEqual(["system.multicall", params]);
  });
});

describe("XmlRpcClient over a unix socket", () => {
  let dir: string;
  let server: Server;
  let socketPath: string;
  const seen: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sarge-xmlrpc-"));
    socketPath = join(dir, "fake.sock");
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${req.headers["content-type"]}`);
        const method = /<methodName>([^<]+)<\/methodName>/.exec(body)?.[1];
        if (method === "http.error") {
          res.writeHead(500).end("boom");
          return;
        }
        res.writeHead(200, { "Content-Type": "text/xml" });
        if (method === "supervisor.getProcessInfo") res.end(PY_FAULT);
        else if (method === "system.multicall")
          res.end(
            response(
              "<value><array><data><value><array><data><value><boolean>1</boolean></value></data></array></value>" +
                "<value><struct><member><name>faultCode</name><value><int>70</int></value></member>" +
                "<member><name>faultString</name><value><string>NOT_RUNNING: x</string></value></member></struct></value>" +
                "</data></array></value>",
            ),
          );
        else if (method === "supervisor.reloadConfig")
          res.end(
            response(
              "<value><array><data><value><array><data><value><array><data><value><string>web-a</string></value></data></array></value>" +
                "<value><array><data></data></array></value><value><array><data><value><string>old</string></value></data></array></value>" +
                "</data></array></value></data></array></value>",
            ),
          );
        else res.end(response(`<value><string>${method}</string></value>`));
      });
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  test("POSTs text/xml to /RPC2 and returns the value", async () => {
    const client = new XmlRpcClient({ socketPath, home: "/h" });
    expect(await client.call("supervisor.getState")).toBe("supervisor.getState");
    expect(seen.at(-1)).toBe("POST /RPC2 text/xml");
  });

  test("a fault becomes a typed XmlRpcFault with its code", async () => {
    const client = new XmlRpcClient({ socketPath, home: "/h" });
    const error = await client.call("supervisor.getProcessInfo", ["nope"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(XmlRpcFault);
    expect(isFault(error, "BAD_NAME")).toBe(true);
    expect(isFault(error, "NOT_RUNNING")).toBe(false);
    expect((error as XmlRpcFault).code).toBe(10);
    expect((error as XmlRpcFault).message).toBe("supervisord refused supervisor.getProcessInfo: BAD_NAME: nope");
    expect(faultName(70)).toBe("NOT_RUNNING");
  });

  test("multicall gives one result or fault per call, in order", async () => {
    const client = new XmlRpcClient({ socketPath, home: "/h" });
    const results = await client.multicall([
      { methodName: "supervisor.startProcess", params: ["a", false] },
      { methodName: "supervisor.stopProcess", params: ["x", true] },
    ]);
    expect(results[0]).toEqual({ ok: true, value: true });
    expect(results[1]!.ok).toBe(false);
    if (!results[1]!.ok) expect(results[1]!.fault.is("NOT_RUNNING")).toBe(true);
  });

  test("typed client checks result shapes (reloadConfig)", async () => {
    const client = new SupervisordClient(new XmlRpcClient({ socketPath, home: "/h" }));
    expect(await client.reloadConfig()).toEqual({ added: ["web-a"], changed: [], removed: ["old"] });
    await expect(client.getPID()).rejects.toThrow(XmlRpcProtocolError); // a string came back
  });

  test("HTTP errors are protocol errors", async () => {
    const client = new XmlRpcClient({ socketPath, home: "/h" });
    await expect(client.call("http.error")).rejects.toThrow(/HTTP 500/);
  });

  test("a missing socket or one nobody listens on is SupervisorNotRunningError naming the home", async () => {
    const missing = new XmlRpcClient({ socketPath: join(dir, "missing.sock"), home: "/srv/app" });
    const error = await missing.call("supervisor.getState").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SupervisorNotRunningError);
    expect((error as Error).message).toContain("/srv/app/bin/supervisord");

    // a stale socket file left by a dead supervisord
    const stale = join(dir, "stale.sock");
    await execa("python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", stale]);
    const refused = new XmlRpcClient({ socketPath: stale, home: "/srv/app" });
    await expect(refused.call("supervisor.getState")).rejects.toBeInstanceOf(SupervisorNotRunningError);
  });
});
