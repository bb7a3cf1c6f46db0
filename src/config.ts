/** Kept for existing importers: the settings live in src/config/ (settings.ts, parse.ts, load.ts). */
export * from "./config/index.ts";
