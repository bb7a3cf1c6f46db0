// Generated from package.json by `npm run gen`; do not edit.
export const PLUGIN_VERSION = "0.1.0";
