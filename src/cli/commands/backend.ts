/** `stateproof backend check [profile]`: what a backend declares, beside what it does. */
import { parseArgs } from 'node:util';
import { UsageError } from '../../base/errors.ts';
import { didYouMean } from '../../base/suggest.ts';
import { checkBackend, type ProbeRow } from '../../backend/check.ts';
import { knownInvariantNames } from '../../backend/invariant-names.ts';
import { loadProfile, parseTargets, PROFILE_FILE, resolveProfile } from '../../backend/profile.ts';
import { preflight } from '../../backend/probe.ts';
import { textTable } from '../../report/text-table.ts';

export const help = `Usage: stateproof backend check [profile.json] [--target URL]... [--token T]...

Probes each capability and bound the backend profile declares against the live backend with a
few contract requests, and prints what it observed beside what was declared. It first runs the
preflight every run does (a missing session, an append, a replay, a read, on every instance
with every token), so an unreachable target or one that does not speak the contract is named in
one line (exit 3). The profile is the file given, else ./${PROFILE_FILE}.

Options:
  --target <url>   the backend's URL (repeatable or comma-separated; overrides the profile's instances)
  --token <t>      a tenant's bearer token (repeatable; overrides the profile's tenants)
  -h, --help

Exit codes: 0 every declared promise observed; 1 one differs; 2 bad profile or flags;
3 the backend is unreachable, refuses the token, or does not speak the contract.

Examples:
  stateproof backend check
  stateproof backend check ./stateproof.backend.json
  stateproof backend check --target http://127.0.0.1:8080 --token tenant-a-token
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'check') throw new UsageError(`backend: unknown subcommand ${sub === undefined ? '(none)' : `'${sub}'`}; the one there is: check.${sub ? didYouMean(sub, ['check']) : ''} Usage: stateproof backend check [profile.json]`);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { target: { type: 'string', multiple: true }, token: { type: 'string', multiple: true } } });
  if (positionals.length > 1) throw new UsageError(`backend check takes at most one profile file; got ${positionals.join(' ')}`);
  const loaded = await loadProfile({ file: positionals[0] }, knownInvariantNames());
  const declared = { ...loaded?.profile };
  if (values.target) declared.instances = parseTargets(values.target);
  if (values.token) declared.tenants = values.token;
  const profile = resolveProfile(declared, loaded?.source ?? 'flags');
  if (profile.instances.length === 0) throw new UsageError(`no backend to check: give --target URL, or 'instances' in ${positionals[0] ?? PROFILE_FILE}.`);
  const tokens = profile.tenants.length ? profile.tenants : [undefined];
  await preflight(profile.instances, tokens);
  process.stdout.write(`backend ${profile.name}: ${profile.instances.length} instance(s), ${tokens.length} tenant(s); contract preflight passed\n`);
  const rows: ProbeRow[] = await checkBackend(profile, { url: profile.instances[0]!, onRow: () => {} });
  process.stdout.write(textTable(['', 'declared', 'observed', ''], rows.map((r) => [r.what, r.declared, r.observed, r.verdict === 'differs' ? 'DIFFERS' : r.verdict])));
  const differs = rows.filter((r) => r.verdict === 'differs');
  process.stdout.write(differs.length ? `${differs.length} declared promise(s) not observed: ${differs.map((r) => r.what).join(', ')}\n` : 'every declared promise observed\n');
  return differs.length ? 1 : 0;
}
