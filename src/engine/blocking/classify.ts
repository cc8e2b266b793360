/**
 * Decides, from a node-target bundle, how its VUs run: in this thread (the script only uses k6's
 * async APIs: http.asyncRequest, timers, async functions) or each in a worker thread that can block
 * (the script calls k6's synchronous APIs: http.get(...), http.batch(...), k6/ws, k6/net/grpc).
 *
 * esbuild writes every k6 import as `var import_x = __toESM(require("k6/x"))` and every use as
 * `import_x.default.member` or `import_x.member`, so the uses can be read off the bundle. A use
 * this cannot read (the module object passed around, a computed member) counts as blocking: a
 * blocking VU runs any script correctly, an in-process one only scripts that never block.
 */

export type ExecutionModel = 'in-process' | 'blocking';

export interface Classification {
  model: ExecutionModel;
  /** What made the script blocking (`k6/http.get`, `k6/ws`), for logs and messages. */
  reasons: string[];
}

/** k6/http members that block the calling VU until the response is in. */
const BLOCKING_HTTP = new Set(['get', 'post', 'put', 'patch', 'del', 'head', 'options', 'request', 'batch']);
/** Modules whose API is blocking as a whole (ws.connect runs until the socket closes; grpc invoke blocks). */
const BLOCKING_MODULES = new Set(['k6/ws', 'k6/net/grpc']);

const REQUIRE = /var (\w+) = (?:__toESM\()?require\("(k6(?:\/[\w/-]+)?)"\)/g;

export function classify(code: string): Classification {
  const reasons = new Set<string>();
  for (const [, binding, module] of code.matchAll(REQUIRE)) {
    if (BLOCKING_MODULES.has(module!)) {
      reasons.add(module!);
      continue;
    }
    if (module !== 'k6/http') continue;
    for (const member of usesOf(code, binding!)) {
      if (member === undefined) reasons.add('k6/http (used other than by member name)');
      else if (BLOCKING_HTTP.has(member)) reasons.add(`k6/http.${member}`);
    }
  }
  return { model: reasons.size ? 'blocking' : 'in-process', reasons: [...reasons] };
}

/** The member names read off `binding` (undefined for a use that is not `.name`). */
function* usesOf(code: string, binding: string): Generator<string | undefined> {
  const use = new RegExp(`\\b${binding}\\b(\\.default)?(\\.(\\w+))?`, 'g');
  for (const m of code.matchAll(use)) {
    const after = code.slice(m.index! + m[0].length, m.index! + m[0].length + 3);
    // The declaration itself.
    if (after.startsWith(' = ')) continue;
    yield m[3];
  }
}
