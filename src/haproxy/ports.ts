import type { HostPort } from "../home/config-types.js";
import { bindError } from "../util/bind-check.js";
import { SargeError } from "../util/errors.js";

/**
 * Refuse stable addresses that HAProxy could not bind. `haproxy -c` does not
 * catch a bind clash, and a reload that hits one fails after seconds with the
 * old listeners paused (measured), so every address HAProxy is about to
 * bind for the first time is tried here first.
 */
export async function assertBindsFree(binds: readonly { proc: string; bind: HostPort }[]): Promise<void> {
  for (const { proc, bind } of binds) {
    const error = await bindError(bind.port, bind.host);
    if (error === null) continue;
    const address = `${bind.host}:${bind.port}`;
    const why =
      error.code === "EADDRINUSE"
        ? "is already in use by another program"
        : error.code === "EADDRNOTAVAIL"
          ? "is not an address of this machine"
          : error.code === "EACCES"
            ? "is a privileged port this user may not bind"
            : `cannot be bound (${error.code ?? error.message})`;
    throw new SargeError(`the stable address ${address} of "${proc}" ${why}`, {
      detail: `Free ${address} or change port_map.${proc} in etc/sarge.yaml.`,
    });
  }
}
