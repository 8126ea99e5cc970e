import type { Command } from 'commander';
import { RwdaError } from '../../errors.ts';
import { DEFAULT_MODEL, listCachedModels, listPretrained, pullModel, removeCachedModel, type CachedModel } from '../../clip/hub/index.ts';
import { formatBytes } from '../../util/progress.ts';
import { modelCommand } from './model_group.ts';

function timeoutMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (!Number.isFinite(s) || s <= 0) throw new RwdaError(`--timeout must be a positive number of seconds (got '${v}')`);
  return s * 1000;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}

function listRows(models: CachedModel[]): string[][] {
  return [
    ['NAME', 'SOURCE', 'SIZE', 'STATE', 'DIR'],
    ...models.map((m) => [m.name, m.source, formatBytes(m.sizeBytes), m.complete ? 'complete' : 'partial', m.dir]),
  ];
}

/** `rwda model pull|list|rm`: the model hub (downloads into rwda's cache, reuses huggingface_hub's). */
export function register(program: Command): void {
  const model = modelCommand(program);

  model
    .command('pull')
    .description(`Fetch a pretrained model into the cache (resumable, checksum-verified); default ${DEFAULT_MODEL}`)
    .argument('[name]', "registry name: arch, arch:tag, or hf-hub:org/name[@revision]", DEFAULT_MODEL)
    .option('--offline', 'use only the caches, never the network (also HF_HUB_OFFLINE=1)')
    .option('--timeout <seconds>', 'give up when no data arrives for this long (default RWDA_DOWNLOAD_TIMEOUT or 30)')
    .option('--quiet', 'no progress bars or notes on stderr')
    .action(async (name: string, opts: { offline?: boolean; timeout?: string; quiet?: boolean }) => {
      const r = await pullModel(name, { offline: opts.offline, timeoutMs: timeoutMs(opts.timeout), quiet: opts.quiet });
      process.stdout.write(JSON.stringify(r) + '\n');
    });

  model
    .command('list')
    .description('List cached models (rwda cache and huggingface_hub snapshots) with sizes and origin')
    .option('--format <format>', 'jsonl or table', 'jsonl')
    .option('--available', 'list the pretrained table instead, with where each model is cached')
    .action((opts: { format: string; available?: boolean }) => {
      if (opts.format !== 'jsonl' && opts.format !== 'table') throw new RwdaError(`--format must be jsonl or table (got '${opts.format}')`);
      const cached = listCachedModels();
      if (opts.available) {
        const rows = listPretrained().map((e) => {
          const hit = cached.find((m) => m.complete && m.repo === e.repo && m.revision === e.revision);
          return { name: e.name, default: e.isDefault, repo: e.repo, revision: e.revision, confirmed: e.confirmed, cached: hit?.source ?? null, dir: hit?.dir ?? null };
        });
        if (opts.format === 'jsonl') for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
        else {
          const t = [['NAME', 'REPO', 'CONFIRMED', 'CACHED'], ...rows.map((r) => [r.name + (r.default ? ' (default)' : ''), `${r.repo}@${r.revision}`, r.confirmed ? 'yes' : 'no', r.cached ?? '-'])];
          process.stdout.write(table(t));
        }
        return;
      }
      if (opts.format === 'jsonl') for (const m of cached) process.stdout.write(JSON.stringify(m) + '\n');
      else process.stdout.write(cached.length ? table(listRows(cached)) : '');
    });

  model
    .command('rm')
    .description("Delete a model from rwda's cache (huggingface_hub snapshots are never touched)")
    .argument('<name>', 'registry name or cache folder name')
    .action(async (name: string) => {
      const r = await removeCachedModel(name);
      process.stdout.write(JSON.stringify({ removed: r.dir, name: r.name }) + '\n');
    });
}
