/**
 * The README's configuration table, generated from the schema so the docs cannot drift from what
 * the loader accepts. A spec (or a docs script) can compare the README's section with this text.
 */
import { stringify, type TomlValue } from 'smol-toml';
import { CONFIG_SCHEMA, SETTINGS } from './config.schema';

/** A value as it would be written in xcron.toml (`8000`, `"./data/"`, `[]`). */
export function tomlLiteral(value: TomlValue): string {
  return stringify({ value })
    .trim()
    .replace(/^value = /, '');
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** Markdown: one row per setting (key, type, default, allowed values, description), then the ignored keys. */
export function renderConfigTable(): string {
  const rows = SETTINGS.map((spec) => {
    const [table, leaf] = spec.key.includes('.') ? spec.key.split('.') : ['', spec.key];
    const key = table === '' ? `\`${leaf}\`` : `\`[${table}] ${leaf}\``;
    const defaultValue = `\`${tomlLiteral(spec.value.encode(spec.default))}\``;
    return `| ${key} | ${spec.value.type} | ${cell(defaultValue)} | ${cell(spec.value.expected)} | ${cell(spec.description)} |`;
  });
  const ignored = CONFIG_SCHEMA.filter((spec) => spec.kind === 'obsolete').map(
    (spec) => `\`${spec.key}\``,
  );
  return [
    '| Key | Type | Default | Allowed values | Description |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    `Accepted from older files and ignored, with a warning: ${ignored.join(', ')}.`,
  ].join('\n');
}
