/**
 * honcho's logging format (Python logging.basicConfig in honcho.command):
 * `YYYY-MM-DD HH:MM:SS [<pid>] [LEVEL] message`, local time, on stderr.
 */
export type LogLevel = "INFO" | "WARNING" | "ERROR";

const pad = (n: number): string => String(n).padStart(2, "0");

/** `HH:MM:SS` in local time, as strftime('%H:%M:%S'). */
export function clockTime(date: Date): string {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function logLine(level: LogLevel, message: string, date = new Date()): string {
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day} ${clockTime(date)} [${process.pid}] [${level}] ${message}\n`;
}

export function log(level: LogLevel, message: string): void {
  process.stderr.write(logLine(level, message));
}
