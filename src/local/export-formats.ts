/** The `sarge local export` formats: honcho's four. */
export const EXPORT_FORMATS = ["supervisord", "systemd", "upstart", "runit"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
