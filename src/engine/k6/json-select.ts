/** k6's Response.json(selector) for the selectors the engine implements: dotted paths (a subset of GJSON). */
export function jsonSelect(body: unknown, selector?: string): unknown {
  if (typeof body !== 'string') throw new Error('cannot parse the response body as JSON: the body is not text (responseType or discardResponseBodies)');
  const value: unknown = JSON.parse(body);
  if (selector === undefined) return value;
  if (/[#*?|@\\]/.test(selector)) {
    throw Object.assign(new Error(`response.json("${selector}"): GJSON selectors beyond dotted paths are not implemented by the built-in engine`), { fatal: true });
  }
  let cur: unknown = value;
  for (const part of selector.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
