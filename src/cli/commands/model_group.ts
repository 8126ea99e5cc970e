import type { Command } from 'commander';

/** The `rwda model` command group, created on first use so several modules can add subcommands to it. */
export function modelCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'model');
  if (existing) return existing;
  return program.command('model').description('Manage CLIP backbones (model directories in the open_clip hub layout)');
}
