import { fileURLToPath } from "node:url";

/**
 * Package folders the CLI reads at run time. This module sits two levels below the package root both
 * unbundled (dist/cli/) and bundled (dist/bundle/), so the relative URL holds in both layouts.
 */
export const DEMO_DIR = fileURLToPath(new URL("../../demo/", import.meta.url));
