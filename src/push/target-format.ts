/** How `sarge push` targets are written (its own module so that --help need not load push). */
export const TARGET_FORMAT = "[user@]host[:port]:/path/to/home";
