/**
 * The page's three files, shipped in web/ and read once when `upkeep serve` starts: plain HTML, CSS and
 * JavaScript, no build step and nothing fetched from the network. web/ sits two levels above this
 * module in dist/serve/ and dist/bundle/ alike.
 */
import { readFileSync } from "node:fs";

const read = (name: string): string => readFileSync(new URL(`../../web/${name}`, import.meta.url), "utf8");

export const INDEX_HTML = read("index.html");
export const APP_JS = read("app.js");
export const APP_CSS = read("app.css");
