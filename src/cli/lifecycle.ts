import type { Command } from "commander";
import type { LifecycleAction } from "../instance/commands.js";
import { withContext } from "./context.js";

export function registerLifecycle(program: Command): void {
  const lifecycle: Array<[LifecycleAction, string]> = [
    ["start", "start a stopped instance (routing is unchanged)"],
    ["stop", "stop an instance gracefully (SIGTERM to its process group, then SIGKILL)"],
    ["restart", "stop and start an instance"],
    ["destroy", "remove an instance: its process, folder and logs"],
  ];
  for (const [action, description] of lifecycle) {
    const sub = program.command(action).description(description).argument("<instance>", "instance id, like web-k3x9qa");
    if (action === "destroy") sub.option("--force", "destroy even the active instance");
    sub.action(async (id: string, options: { force?: boolean }, command: Command) => {
      const { changeInstance } = await import("../instance/commands.js");
      const message = await withContext(command, action, (ctx) => changeInstance(ctx, action, id, options));
      process.stdout.write(message + "\n");
    });
  }
}
