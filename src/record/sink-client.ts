/**
 * A runner process's side of the sink (the built-in engine's runners; real k6 uses the k6 helper
 * in scenarios/lib/history.ts, which speaks the same protocol). Entries are buffered and POSTed
 * in order, one batch in flight, each with the next sequence number as its batch id; a batch whose
 * answer is lost, or says 5xx/429, is sent again with the same id, so the sink applies it once.
 *
 *   record(e) ─> buffer ─(full, or every flushMs)─> POST …/history  id <runner>/<seq>  ─┐
 *                                               retry same id on no answer/5xx/429 <──┘
 *   finish(metrics) ─> flush ─> POST …/metrics  id "final"
 *
 * A refusal that retrying cannot fix (401 token, 404 run, 400, 413) is fatal: `onRefused` says why
 * and the runner stops, rather than dropping its history silently.
 */
import type { HistoryEntry } from './history.ts';
import { SINK_HEADERS } from './sink-protocol.ts';

export interface SinkClientOptions {
  url: string;
  metricsUrl: string;
  token: string;
  runner: string;
  /** Entries per batch (the sink's limit is larger). */
  batchEntries?: number;
  flushMs?: number;
  attempts?: number;
  retryBaseMs?: number;
  onRefused?: (message: string) => void;
}

export class SinkRefusedError extends Error {
  override name = 'SinkRefusedError';
}

export class SinkClient {
  private buffer: Array<Omit<HistoryEntry, 'id'>> = [];
  private seq = 0;
  private chain: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  private refused: SinkRefusedError | undefined;
  sentEntries = 0;

  constructor(private readonly o: SinkClientOptions) {
    this.timer = setInterval(() => this.flush(), o.flushMs ?? 250);
    this.timer.unref();
  }

  record(entry: Omit<HistoryEntry, 'id'>): void {
    if (this.refused) return;
    this.buffer.push(entry);
    if (this.buffer.length >= (this.o.batchEntries ?? 500)) this.flush();
  }

  /** Queues what is buffered as one batch. */
  flush(): void {
    if (this.buffer.length === 0 || this.refused) return;
    const batch = this.buffer;
    this.buffer = [];
    const id = String(++this.seq);
    this.chain = this.chain.then(() => this.post(this.o.url, id, JSON.stringify(batch))).then(
      () => void (this.sentEntries += batch.length),
      (e: unknown) => this.fail(e),
    );
  }

  /** Sends what is left, then the runner's final metrics (its last word). */
  async finish(metrics: unknown): Promise<void> {
    clearInterval(this.timer);
    this.flush();
    await this.chain;
    if (this.refused) throw this.refused;
    await this.post(this.o.metricsUrl, 'final', JSON.stringify(metrics)).catch((e: unknown) => this.fail(e));
    if (this.refused) throw this.refused;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fail(e: unknown): void {
    if (this.refused) return;
    this.refused = e instanceof SinkRefusedError ? e : new SinkRefusedError(`the history sink could not be reached: ${(e as Error).message}`);
    this.o.onRefused?.(this.refused.message);
  }

  private async post(url: string, batch: string, body: string): Promise<void> {
    const attempts = this.o.attempts ?? 5;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.o.token}`, [SINK_HEADERS.runner]: this.o.runner, [SINK_HEADERS.batch]: batch },
          signal: AbortSignal.timeout(30_000),
        });
        const text = res.status === 204 ? '' : (await res.text()).trim();
        if (res.status === 204 || res.status === 200) return;
        last = `${res.status} ${text}`;
        if (res.status !== 429 && res.status < 500) throw new SinkRefusedError(`the history sink refused batch ${this.o.runner}/${batch}: ${last}`);
      } catch (e) {
        if (e instanceof SinkRefusedError) throw e;
        last = (e as Error).message;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, (this.o.retryBaseMs ?? 200) * 2 ** (attempt - 1)));
    }
    throw new Error(`batch ${this.o.runner}/${batch} not delivered after ${attempts} tries (${last})`);
  }
}
