/**
 * `stateproof k8s <scenario> --parallelism N`: writes the manifests k6-operator needs to run the
 * scenario on N pods of real k6 (../../k8s/operator-manifests.ts). It only writes files.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { UsageError } from '../../base/errors.ts';
import { bundleScript } from '../../engine/bundle.ts';
import { DEFAULT_RUNNER_IMAGE, operatorManifests, resourceName } from '../../k8s/operator-manifests.ts';
import { resolveScenario } from '../../run/scenarios.ts';
import { parseEnvPairs } from '../config.ts';
import { didYouMean } from '../../base/suggest.ts';
import { sinkTarget } from '../../k8s/sink-url.ts';
import { newRunId, parseRunId } from '../../run/run-id.ts';
import { PROFILES } from '../../../scenarios/lib/spec-types.ts';

export const help = `Usage: stateproof k8s <scenario|script.ts> --parallelism N [options]

Writes what k6-operator needs to run the scenario on N pods of real k6: a ConfigMap with the
scenario's esbuild bundle, a TestRun (k6.io/v1alpha1) with parallelism N, the script reference,
the runner image and env carrying the history sink's URL and token, and a README for the
cluster side.

This command cannot start, reach or change a cluster: it writes files, nothing else. Apply
them yourself with kubectl where k6-operator is installed (the README says how).

k6-operator gives runner i of N --execution-segment=(i-1)/N:i/N and the sequence 0,1/N,...,1;
\`stateproof k6 --execution-segment\` splits the load exactly as those k6 runners do.

Options:
      --parallelism N    number of k6 runner pods (required, at least 1)
      --image IMG        runner image (default ${DEFAULT_RUNNER_IMAGE})
      --out DIR          where to write the files (default k8s/<name>)
      --name NAME        TestRun and ConfigMap name (default stateproof-<scenario>)
      --sink-url URL     the history sink as the pods reach it, e.g. http://10.0.0.5:7070 (a path
                         prefix is kept); the pods get <URL>/runs/<run id>/history
                         (STATEPROOF_HISTORY_URL). Without it the runners record no history
      --run-id ID        the run the pods record into (default: a new id, printed); start it with
                         \`stateproof run <scenario> --run-id ID --sink-listen 0.0.0.0:<port>\`
      --profile P        the scenario's profile in the pods (${PROFILES.join(', ')}; STATEPROOF_PROFILE);
                         give the run the same
      --target URL       the backend as the pods reach it (STATEPROOF_TARGET)
  -e, --env KEY=VALUE    more environment for the runners (repeatable)
  -h, --help             this help

The sink token is not written into any file: the TestRun reads STATEPROOF_SINK_TOKEN from the
Secret <name>-sink (key "token"), which you create with kubectl; give the run the same token
(STATEPROOF_SINK_TOKEN in its environment). The README written beside the manifests has both steps.

Examples:
  stateproof k8s store-outage --parallelism 4 --sink-url http://10.0.0.5:7070 --run-id so-k8s-1 --target http://agent.default.svc:8080
  STATEPROOF_SINK_TOKEN=… stateproof run store-outage --run-id so-k8s-1 --sink-listen 0.0.0.0:7070   # the run those pods record into
  stateproof k8s scenarios/my-load.ts --parallelism 2 --image grafana/k6:1.3.0 --out deploy/k6
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      parallelism: { type: 'string' },
      image: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      'sink-url': { type: 'string' },
      'run-id': { type: 'string' },
      profile: { type: 'string' },
      target: { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`expected exactly one scenario, got ${positionals.length}. Example: stateproof k8s store-outage --parallelism 4`);
  if (values.parallelism === undefined) throw new UsageError('--parallelism N is required: how many k6 runner pods k6-operator starts (e.g. --parallelism 4)');
  const parallelism = Number(values.parallelism);
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError(`--parallelism must be a whole number of runners >= 1, got "${values.parallelism}"`);
  for (const flag of ['sink-url', 'target'] as const) {
    const v = values[flag];
    if (v !== undefined && !/^https?:\/\/[^\s/]+/.test(v)) throw new UsageError(`--${flag} must be an http(s) URL the pods can reach, got "${v}"`);
  }
  if (values.name !== undefined && !/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(values.name)) {
    throw new UsageError(`--name must be lowercase letters, digits and "-", at most 40 characters (k6-operator appends suffixes to it), got "${values.name}"`);
  }
  if (values.profile !== undefined && !(PROFILES as readonly string[]).includes(values.profile)) throw new UsageError(`--profile must be one of ${PROFILES.join(', ')}; got '${values.profile}'.${didYouMean(values.profile, PROFILES)}`);
  const givenRunId = values['run-id'] !== undefined ? parseRunId(values['run-id']) : undefined;
  if (givenRunId !== undefined && values['sink-url'] === undefined) throw new UsageError('--run-id names the run the pods record into, through the sink: give --sink-url too (the sink as the pods reach it, e.g. http://10.0.0.5:7070)');
  const scenario = resolveScenario(positionals[0]!);
  const sink = values['sink-url'] !== undefined ? sinkTarget(values['sink-url'], givenRunId, () => newRunId(scenario.name)) : undefined;
  const env = { ...parseEnvPairs(values.env ?? []), ...(values.target !== undefined ? { STATEPROOF_TARGET: values.target } : {}) };
  const bundle = await bundleScript(scenario.scriptPath, { target: 'k6' });
  const m = operatorManifests({
    scenario: scenario.name,
    bundle: bundle.code,
    parallelism,
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.image !== undefined ? { image: values.image } : {}),
    ...(sink ? { sinkUrl: sink.historyUrl, runId: sink.runId, sinkPort: sink.port } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    env,
  });
  const out = path.resolve(values.out ?? path.join('k8s', values.name ?? resourceName(scenario.name)));
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'configmap.yaml'), stringify(m.configMap, { lineWidth: 0 }));
  await writeFile(path.join(out, 'testrun.yaml'), stringify(m.testRun, { lineWidth: 0 }));
  await writeFile(path.join(out, 'README.md'), m.readme);
  await writeFile(path.join(out, m.file), bundle.code);
  process.stdout.write(
    `wrote ${path.relative(process.cwd(), out) || '.'}/{configmap.yaml,testrun.yaml,README.md,${m.file}}: TestRun ${m.name}, parallelism ${parallelism}\n` +
      `nothing was applied: see the README there for the kubectl steps (the sink token goes in Secret ${m.sinkSecret})\n` +
      (sink
        ? `the pods record into run ${sink.runId} (${sink.historyUrl}); serve it with:\n` +
          `  STATEPROOF_SINK_TOKEN=<the Secret's token> stateproof run ${positionals[0]} --run-id ${sink.runId} --sink-listen 0.0.0.0:${sink.port}${values.profile !== undefined ? ` --profile ${values.profile}` : ''}\n`
        : 'note: no --sink-url, so the runners will record no history\n'),
  );
  return 0;
}
