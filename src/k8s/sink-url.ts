/**
 * The history URL k6-operator's pods get, tied to one run id: the sink serves a run at
 * /runs/<run id>/history, so manifests written ahead of the run must name the id the run will
 * use (`stateproof run … --run-id <id>`). --sink-url may be the sink's address alone (a path
 * prefix, e.g. behind an ingress, is kept) or, as before, the full URL a run printed.
 */
import { UsageError } from '../base/errors.ts';
import { parseRunId } from '../run/run-id.ts';

const HISTORY_PATH = /\/runs\/([^/]+)\/history\/?$/;

export interface SinkTarget {
  /** STATEPROOF_HISTORY_URL for the pods. */
  historyUrl: string;
  runId: string;
  /** The port the pods reach the sink on (the URL's, or its scheme's default). */
  port: number;
}

/** `fresh` makes a run id when neither the URL nor --run-id names one. */
export function sinkTarget(sinkUrl: string, runId: string | undefined, fresh: () => string): SinkTarget {
  let url: URL;
  try {
    url = new URL(sinkUrl);
  } catch {
    throw new UsageError(`--sink-url must be an http(s) URL the pods can reach, got "${sinkUrl}"`);
  }
  if (url.search !== '' || url.hash !== '') throw new UsageError(`--sink-url takes no query or fragment (the pods POST to <url>/runs/<run id>/history), got "${sinkUrl}"`);
  const m = HISTORY_PATH.exec(url.pathname);
  const inUrl = m ? parseRunId(decodeURIComponent(m[1]!), 'the run id in --sink-url') : undefined;
  if (inUrl !== undefined && runId !== undefined && inUrl !== runId) {
    throw new UsageError(`--sink-url names run ${inUrl} but --run-id is ${runId}; give the sink's address alone (e.g. ${url.origin}) with --run-id, or drop --run-id`);
  }
  const id = inUrl ?? runId ?? fresh();
  const base = (m ? url.pathname.slice(0, m.index) : url.pathname).replace(/\/+$/, '');
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { historyUrl: `${url.origin}${base}/runs/${encodeURIComponent(id)}/history`, runId: id, port };
}
