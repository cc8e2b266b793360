/**
 * The field structure of k6-operator's TestRun (k6.io/v1alpha1) and of the ConfigMap that holds its
 * script, written from k6-operator's API reference (grafana/k6-operator docs/crd-generated.md,
 * "TestRun.spec", "TestRun.spec.script", "TestRun.spec.runner", "TestRun.spec.runner.env[index]").
 * Strict where the reference lists the fields, so a misspelt or invented field is refused before a
 * cluster sees it; the Pod-level objects k6-operator copies from Kubernetes (affinity, resources,
 * probes...) are objects whose inner fields are Kubernetes', not checked here.
 */
import { z } from 'zod';

/** Kubernetes object names: DNS-1123 subdomain (lowercase alphanumerics, '-' and '.'). */
const dnsName = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name: lowercase letters, digits, "-" and "."');

const metadata = z
  .object({ name: dnsName, namespace: dnsName.optional(), labels: z.record(z.string()).optional(), annotations: z.record(z.string()).optional() })
  .strict();

const kubeObject = z.record(z.unknown());

/** TestRun.spec.runner.env[index]: name required; value or valueFrom. */
const envVar = z
  .object({
    name: z.string().min(1),
    value: z.string().optional(),
    valueFrom: z
      .object({
        configMapKeyRef: kubeObject.optional(),
        fieldRef: kubeObject.optional(),
        resourceFieldRef: kubeObject.optional(),
        secretKeyRef: z.object({ name: z.string().min(1), key: z.string().min(1), optional: z.boolean().optional() }).strict().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** TestRun.spec.runner / initializer / starter: the Pod fields k6-operator lists. */
const podSpec = z
  .object({
    affinity: kubeObject.optional(),
    automountServiceAccountToken: z.string().optional(),
    containerSecurityContext: kubeObject.optional(),
    disabled: z.boolean().optional(),
    env: z.array(envVar).optional(),
    envFrom: z.array(kubeObject).optional(),
    image: z.string().min(1).optional(),
    imagePullPolicy: z.string().optional(),
    imagePullSecrets: z.array(kubeObject).optional(),
    initContainers: z.array(kubeObject).optional(),
    livenessProbe: kubeObject.optional(),
    metadata: kubeObject.optional(),
    nodeSelector: z.record(z.string()).optional(),
    priorityClassName: z.string().optional(),
    readinessProbe: kubeObject.optional(),
    resources: kubeObject.optional(),
    schedulerName: z.string().optional(),
    securityContext: kubeObject.optional(),
    serviceAccountName: z.string().optional(),
    tolerations: z.array(kubeObject).optional(),
    topologySpreadConstraints: z.array(kubeObject).optional(),
    volumeMounts: z.array(kubeObject).optional(),
    volumes: z.array(kubeObject).optional(),
  })
  .strict();

/** TestRun.spec.script: where the script is; exactly one of the three. */
const script = z
  .object({
    configMap: z.object({ name: dnsName, file: z.string().min(1).optional() }).strict().optional(),
    localFile: z.string().min(1).optional(),
    volumeClaim: z.object({ name: z.string().min(1), file: z.string().min(1).optional(), readOnly: z.boolean().optional() }).strict().optional(),
  })
  .strict()
  .refine((s) => [s.configMap, s.localFile, s.volumeClaim].filter((x) => x !== undefined).length === 1, 'script needs exactly one of configMap, localFile, volumeClaim');

export const testRunSchema = z
  .object({
    apiVersion: z.literal('k6.io/v1alpha1'),
    kind: z.literal('TestRun'),
    metadata,
    spec: z
      .object({
        // Format int32; k6-operator splits the test into this many runners.
        parallelism: z.number().int().min(1).max(2 ** 31 - 1),
        script,
        arguments: z.string().optional(),
        cleanup: z.enum(['post']).optional(),
        initializer: podSpec.optional(),
        paused: z.string().optional(),
        ports: z.array(kubeObject).optional(),
        quiet: z.string().optional(),
        runner: podSpec.optional(),
        scuttle: kubeObject.optional(),
        separate: z.boolean().optional(),
        starter: podSpec.optional(),
        testRunId: z.string().optional(),
        token: z.string().optional(),
      })
      .strict(),
  })
  .strict();

/** "A single ConfigMap has a character limit of 1048576 bytes" (k6-operator's docs). */
export const CONFIGMAP_MAX_BYTES = 1_048_576;

export const configMapSchema = z
  .object({
    apiVersion: z.literal('v1'),
    kind: z.literal('ConfigMap'),
    metadata,
    data: z.record(z.string()),
  })
  .strict()
  .refine((c) => Buffer.byteLength(JSON.stringify(c.data)) <= CONFIGMAP_MAX_BYTES, `a ConfigMap holds at most ${CONFIGMAP_MAX_BYTES} bytes`);

export type TestRun = z.infer<typeof testRunSchema>;
export type ConfigMap = z.infer<typeof configMapSchema>;
