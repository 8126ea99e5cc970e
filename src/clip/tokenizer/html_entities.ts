/**
 * The HTML entity tables, kept as data in html_entities.json (generated: CPython 3.11.7
 * `html.entities.html5`, 2231 entries, and the ALL-CAPS extras ftfy 6.3.1 derives from it, 1376
 * entries; see README.md to regenerate). Read once, when the tokenizer is first imported.
 */
import { readFileSync } from 'node:fs';

interface EntityTables {
  html5: Record<string, string>;
  ftfy_uppercase: Record<string, string>;
}

const tables = JSON.parse(readFileSync(new URL('./html_entities.json', import.meta.url), 'utf8')) as EntityTables;

/** HTML5 named character references as Python's html.entities.html5: name (with or without ';') -> text. */
export const HTML5_ENTITIES: Readonly<Record<string, string>> = Object.freeze(tables.html5);

/** ftfy's extra ALL-CAPS entities ('EACUTE;' -> 'É'): lower-case names whose upper-case form html.unescape leaves alone. */
export const FTFY_UPPERCASE_ENTITIES: Readonly<Record<string, string>> = Object.freeze(tables.ftfy_uppercase);
