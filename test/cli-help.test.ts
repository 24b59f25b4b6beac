/** Every command's --help states the exit codes (DESIGN §4), subcommands included. */
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

const commandsOf = (help: string): string[] => {
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1] ?? '').filter((name) => name !== 'help');
};

describe('--help', () => {
  it('of every command and subcommand states the exit codes', async () => {
    const root = await runCli(['--help']);
    expect(root.stdout).toMatch(/Exit codes:/);
    const commands = commandsOf(root.stdout);
    expect(commands.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const command of commands) {
      const help = (await runCli([command, '--help'])).stdout;
      const subcommands = commandsOf(help);
      for (const path of subcommands.length > 0 ? subcommands.map((sub) => [command, sub]) : [[command]]) {
        const text = subcommands.length > 0 ? (await runCli([...path, '--help'])).stdout : help;
        if (!/Exit codes:\n {2}0 +done[\s\S]*\n {2}1 [\s\S]*\n {2}2 +invalid input[\s\S]*\n {2}3 +refused/.test(text))
          missing.push(path.join(' '));
      }
    }
    expect(missing).toEqual([]);
  }, 120_000);
});
