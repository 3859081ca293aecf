import { describe, expect, it } from "vitest";
import {
  listensFromServersState,
  loadFromStat,
  parseServersState,
  parseShowProc,
  parseStatCsv,
  slotStateFromAdmin,
} from "../../../src/haproxy/runtime.js";

// Replies captured from HAProxy 2.6.12.
const serversState = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
2 web 1 blue 127.0.0.1 0 5 1 1 5 1 0 0 8 0 0 0 - 1 - 0 0 - - 0
2 web 2 green 127.0.0.1 2 12 1 1 0 1 0 0 8 0 0 0 - 15011 - 0 0 - - 0
`;

const stat = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
web,blue,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1
web,green,1,0,2,1,,1,82,602,,0,,0,0,0,0,DRAIN,1
`;

const proc = `#<PID>          <type>          <reloads>       <uptime>        <version>
6381            master          1 [failed: 0]   0d00h00m15s     2.6.12-1+deb12u4
# workers
6702            worker          0               0d00h00m01s     2.6.12-1+deb12u4
# old workers
6384            worker          1               0d00h00m15s     2.6.12-1+deb12u4
# programs
`;

describe("runtime replies", () => {
  it("maps admin state bits: config-disabled (5) is maint, ready after 'state ready' keeps the config bit (4), drain (12)", () => {
    expect(slotStateFromAdmin(5)).toBe("maint");
    expect(slotStateFromAdmin(1)).toBe("maint");
    expect(slotStateFromAdmin(4)).toBe("ready");
    expect(slotStateFromAdmin(0)).toBe("ready");
    expect(slotStateFromAdmin(12)).toBe("drain");
    expect(slotStateFromAdmin(13)).toBe("maint");
  });

  it("parses show servers state by column name", () => {
    const rows = parseServersState(serversState);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ be_name: "web", srv_name: "green", srv_addr: "127.0.0.1", srv_admin_state: "12", srv_port: "15011" });
  });

  it("reads the blue/green slots of each listen block", () => {
    expect(listensFromServersState(serversState)).toEqual([
      {
        proc: "web",
        blue: { state: "maint", addr: "127.0.0.1", port: 1 },
        green: { state: "drain", addr: "127.0.0.1", port: 15011 },
      },
    ]);
  });

  it("counts running plus queued requests of a slot, and names a missing one", () => {
    expect(loadFromStat(stat, "web", "green")).toBe(3);
    expect(loadFromStat(stat, "web", "blue")).toBe(0);
    expect(() => loadFromStat(stat, "api", "blue")).toThrow(/no server api\/blue/);
  });

  it("parses show stat CSV by column name", () => {
    const rows = parseStatCsv(stat);
    expect(rows[1]).toMatchObject({ pxname: "web", svname: "green", qcur: "1", scur: "2", status: "DRAIN" });
  });

  it("parses show proc: master, current and old workers, failed reloads", () => {
    expect(parseShowProc(proc)).toEqual({ masterPid: 6381, reloads: 1, failedReloads: 0, workers: [6702], oldWorkers: [6384] });
    expect(parseShowProc("Unknown command.\n")).toBeNull();
  });
});
