/** The `sarge local export` formats (honcho also has runit and upstart; sarge does not). */
export const EXPORT_FORMATS = ["supervisord", "systemd"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
