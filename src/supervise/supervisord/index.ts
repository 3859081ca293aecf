/** The supervisord backend: see backend.ts and config.ts. */
export {
  connectSupervisord,
  connectSupervisordBackend,
  runningPrograms,
  shutdownSupervisord,
  SupervisordSupervisor,
  type SupervisordBackendOptions,
} from "./backend.js";
export {
  findSupervisord,
  programConfPath,
  programsDir,
  supervisordCommand,
  supervisordConfPath,
  supervisordLogPath,
  supervisordPidPath,
  writeSupervisordConfig,
  type SupervisordConfigOptions,
} from "./config.js";
export { programsStillRunning } from "./record.js";
export { SupervisordFaults, XmlRpcFault } from "./xmlrpc.js";
