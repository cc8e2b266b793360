/**
 * What k6-operator needs to run a stateproof scenario on N pods of real k6: a ConfigMap holding the
 * scenario's k6 bundle, a TestRun (k6.io/v1alpha1) pointing at it with `parallelism: N`, and a
 * README for whoever applies them. Pure: the caller bundles and writes the files.
 *
 *   scenario ─ esbuild (target k6) ─> bundle.js ─> ConfigMap data[<file>]
 *   TestRun.spec: parallelism N, script.configMap {name, file}, runner.image, runner.env:
 *     STATEPROOF_HISTORY_URL  where the runners send history (the harness's sink, reachable from the cluster)
 *     STATEPROOF_SINK_TOKEN   the run's bearer token, from a Secret the user creates (never in the manifest)
 *
 * k6-operator gives runner i of N `--execution-segment=(i-1)/N:i/N` and the matching sequence
 * (../engine/runner-segments.ts); k6 then splits every executor as ../engine/execution-segment.ts does.
 */
import { configMapSchema, CONFIGMAP_MAX_BYTES, testRunSchema, type ConfigMap, type TestRun } from './testrun-schema.ts';
import { UsageError } from '../base/errors.ts';

/** The k6 release the engine's execution segments were checked against (test/engine/segments-conformance.test.ts). */
export const DEFAULT_RUNNER_IMAGE = 'grafana/k6:1.3.0';

export interface OperatorManifestInput {
  /** The scenario's name (a built-in scenario or a script's base name). */
  scenario: string;
  /** The k6 bundle (bundleScript target 'k6'). */
  bundle: string;
  parallelism: number;
  /** TestRun and ConfigMap name; default stateproof-<scenario>. */
  name?: string;
  image?: string;
  /** STATEPROOF_HISTORY_URL for the runners (…/runs/<runId>/history); without it they record no history. */
  sinkUrl?: string;
  /** The run the pods record into: the run to start is `stateproof run <scenario> --run-id <runId>`. */
  runId?: string;
  /** The port the pods reach the sink on, for the README's --sink-listen. */
  sinkPort?: number;
  /** The profile the pods run (STATEPROOF_PROFILE); the run must use the same. */
  profile?: string;
  /** More environment for the runners (the scenario's own: STATEPROOF_TARGET, STATEPROOF_PROFILE...). */
  env?: Record<string, string>;
}

export interface OperatorManifests {
  name: string;
  /** The key of the bundle in the ConfigMap, and TestRun.spec.script.configMap.file. */
  file: string;
  sinkSecret: string;
  configMap: ConfigMap;
  testRun: TestRun;
  readme: string;
}

/** Lowercase DNS-1123 label from a scenario name; room is left for k6-operator's "-initializer", "-<i>" suffixes. */
export function resourceName(scenario: string): string {
  const base = `stateproof-${scenario}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return base.slice(0, 40).replace(/-$/, '');
}

export function operatorManifests(input: OperatorManifestInput): OperatorManifests {
  const { parallelism } = input;
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new UsageError(`--parallelism must be a whole number of runners >= 1, got ${parallelism}`);
  const name = input.name ?? resourceName(input.scenario);
  const file = `${name}.js`;
  const sinkSecret = `${name}-sink`;
  const bytes = Buffer.byteLength(input.bundle);
  if (bytes > CONFIGMAP_MAX_BYTES) {
    throw new UsageError(
      `the bundle of ${input.scenario} is ${bytes} bytes, more than a ConfigMap holds (${CONFIGMAP_MAX_BYTES}); put it on a volume and use TestRun.spec.script.volumeClaim instead`,
    );
  }
  const env = [
    ...(input.sinkUrl !== undefined ? [{ name: 'STATEPROOF_HISTORY_URL', value: input.sinkUrl }] : []),
    ...(input.profile !== undefined ? [{ name: 'STATEPROOF_PROFILE', value: input.profile }] : []),
    { name: 'STATEPROOF_SINK_TOKEN', valueFrom: { secretKeyRef: { name: sinkSecret, key: 'token' } } },
    ...Object.entries(input.env ?? {}).map(([k, value]) => ({ name: k, value })),
  ];
  const labels = { 'app.kubernetes.io/managed-by': 'stateproof', 'stateproof/scenario': resourceName(input.scenario).replace(/^stateproof-/, '') };
  const configMap = configMapSchema.parse({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { [file]: input.bundle } });
  const testRun = testRunSchema.parse({
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name, labels, ...(input.runId !== undefined ? { annotations: { 'stateproof/run-id': input.runId } } : {}) },
    spec: {
      parallelism,
      script: { configMap: { name, file } },
      runner: { image: input.image ?? DEFAULT_RUNNER_IMAGE, env },
    },
  });
  return { name, file, sinkSecret, configMap, testRun, readme: readme(input, name, file, sinkSecret) };
}

/** Step 1 of the README: the token both sides share and, with a run id, the run that serves the pods. */
function startRun(input: OperatorManifestInput, sinkSecret: string): string {
  if (input.runId === undefined) {
    return `# 1. The bearer token of the stateproof run whose history sink the pods report to.
kubectl create secret generic ${sinkSecret} --from-literal=token=<the run's token>
`;
  }
  const profile = input.profile !== undefined ? ` --profile ${input.profile}` : '';
  return `# 1. One token for both sides (16-512 printable characters), then the run the pods record into:
#    run ${input.runId}, its sink listening where ${input.sinkUrl} reaches (port ${input.sinkPort ?? '<port>'} here).
export STATEPROOF_SINK_TOKEN=$(openssl rand -hex 24)
kubectl create secret generic ${sinkSecret} --from-literal=token="$STATEPROOF_SINK_TOKEN"
stateproof run ${input.scenario} --run-id ${input.runId} --sink-listen 0.0.0.0:${input.sinkPort ?? '<port>'}${profile} &
`;
}

function readme(input: OperatorManifestInput, name: string, file: string, sinkSecret: string): string {
  const n = input.parallelism;
  const example = n > 1 ? `runner 1 of ${n} runs \`--execution-segment=0:1/${n} --execution-segment-sequence=0,${Array.from({ length: n - 1 }, (_, i) => `${i + 1}/${n}`).join(',')},1\`` : 'one runner runs the whole test (no segment flags)';
  return `# ${input.scenario} on k6-operator (${n} runner${n === 1 ? '' : 's'})

Written by \`stateproof k8s\`. **Nothing here starts or touches a cluster**: these are manifests for
you to apply where [k6-operator](https://github.com/grafana/k6-operator) is installed.

| file | what |
|---|---|
| \`configmap.yaml\` | ConfigMap \`${name}\`: the scenario's k6 bundle under the key \`${file}\` |
| \`testrun.yaml\` | TestRun \`${name}\` (k6.io/v1alpha1): \`parallelism: ${n}\`, the script from the ConfigMap, image \`${input.image ?? DEFAULT_RUNNER_IMAGE}\` |
| \`${file}\` | the same bundle, to read or to run locally (\`stateproof k6 ${file} --execution-segment 0:1/${n} ...\`) |

## Apply

\`\`\`sh
${startRun(input, sinkSecret)}# 2. The script, then the test run.
kubectl apply -f configmap.yaml
kubectl apply -f testrun.yaml
# 3. Watch it; each runner is a pod labelled k6_cr=${name}.
kubectl get testrun ${name} -w
kubectl logs -l k6_cr=${name},runner=true --tail=20
# 4. Clean up.
kubectl delete -f testrun.yaml -f configmap.yaml && kubectl delete secret ${sinkSecret}
\`\`\`

## How the load is split

k6-operator starts ${n} k6 pod${n === 1 ? '' : 's'}; ${example}. k6 splits every executor by those
flags (VUs, iterations and arrival rates, striped so the runners together do what one k6 would).
stateproof's built-in engine splits them the same way; its conformance test compares the two on
k6 v1.3.0.

## History and the sink

${
  input.sinkUrl !== undefined
    ? `Runners send their history entries to \`STATEPROOF_HISTORY_URL=${input.sinkUrl}\` with the token from the
Secret \`${sinkSecret}\` (\`STATEPROOF_SINK_TOKEN\`). That URL must be reachable from the pods.${
        input.runId !== undefined
          ? `

The URL is run \`${input.runId}\`'s: the sink answers 404 for any other run. Start that run (step 1)
before applying the TestRun: the run drives its own share of the load too, and waits for the pods at
most 10 s after its own load ends; batches from pods that start later are not in its verdict.`
          : ''
      }`
    : `No \`--sink-url\` was given, so the runners record no history: the run's checkers will have nothing to
check. Write the manifests again with \`--sink-url http://<host reachable from the pods>:<port>\`.`
}
The harness merges every runner's history and HDR snapshots into one run; k6's own end-of-test
summaries are per pod and cannot be merged into percentiles.

## Limits

- k6-operator runs \`setup()\` and \`teardown()\` in every runner; a scenario's setup must tolerate that.
- A ConfigMap holds at most ${CONFIGMAP_MAX_BYTES} bytes; a bigger bundle needs \`spec.script.volumeClaim\`.
- Thresholds are evaluated per runner by k6; stateproof's verdict comes from the merged history.
`;
}
