import type { Socket } from "node:net";
import { readLines } from "./line-reader.js";
import type { Response } from "./protocol.js";

/** A spec carries an app's whole environment: a few KiB, far below this. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** Every sarge command holds one connection; more than this at once is a runaway or hostile client. */
const MAX_CONNECTIONS = 64;
/** Requests of one connection being answered at once; beyond, reading waits. */
const MAX_IN_FLIGHT = 16;
/** Answers a client leaves unread; beyond, it is disconnected. */
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;
/** Repeated warnings about a flood of connections are held back this long. */
const WARN_EVERY_MS = 60_000;

interface Connection {
  inFlight: number;
  lastActive: number;
}

/**
 * The daemon's clients. Whatever one does (closes before reading its
 * answers, resets, sends garbage or a huge line, opens a thousand
 * connections), only its own connection suffers: errors are handled per
 * socket, requests and unread answers are bounded, and past the connection
 * limit the longest idle connection makes room (a sarge client reconnects
 * on its next request).
 */
export class Connections {
  private readonly open = new Map<Socket, Connection>();
  private lastWarned = 0;

  constructor(
    private readonly answer: (line: string) => Promise<Response>,
    private readonly warn: (line: string) => void,
  ) {}

  accept(socket: Socket): void {
    socket.on("error", () => undefined); // a client that went away; 'close' follows
    if (this.open.size >= MAX_CONNECTIONS && !this.evictIdle()) {
      this.warnFlood(`refused a connection: ${MAX_CONNECTIONS} connections are busy`);
      socket.destroy();
      return;
    }
    const connection: Connection = { inFlight: 0, lastActive: Date.now() };
    this.open.set(socket, connection);
    socket.on("close", () => this.open.delete(socket));
    readLines(socket, MAX_REQUEST_BYTES, {
      line: (line) => void this.serve(socket, connection, line),
      overflow: () => this.refuse(socket, `request larger than ${MAX_REQUEST_BYTES} bytes`),
    });
  }

  closeAll(): void {
    for (const socket of this.open.keys()) socket.destroy();
  }

  private async serve(socket: Socket, connection: Connection, line: string): Promise<void> {
    connection.lastActive = Date.now();
    if (++connection.inFlight === MAX_IN_FLIGHT) socket.pause();
    const response = await this.answer(line);
    connection.lastActive = Date.now();
    if (connection.inFlight-- === MAX_IN_FLIGHT) socket.resume();
    this.send(socket, response);
  }

  private send(socket: Socket, response: Response): void {
    if (socket.destroyed) return;
    socket.write(JSON.stringify(response) + "\n");
    if (socket.writableLength > MAX_UNREAD_BYTES) socket.destroy();
  }

  private refuse(socket: Socket, error: string): void {
    // What it still sends is read and dropped, so that it gets this answer rather than a reset.
    this.send(socket, { id: -1, error });
    socket.end();
  }

  /** Closes the connection idle the longest; false when every one has a request under way. */
  private evictIdle(): boolean {
    let oldest: [Socket, Connection] | undefined;
    for (const entry of this.open) {
      if (entry[1].inFlight === 0 && (!oldest || entry[1].lastActive < oldest[1].lastActive)) oldest = entry;
    }
    if (!oldest) return false;
    this.warnFlood(`more than ${MAX_CONNECTIONS} connections: closing the longest idle one`);
    this.open.delete(oldest[0]);
    oldest[0].destroy();
    return true;
  }

  private warnFlood(line: string): void {
    if (Date.now() - this.lastWarned < WARN_EVERY_MS) return;
    this.lastWarned = Date.now();
    this.warn(`${line} (repeats are not logged for a minute)`);
  }
}
