/**
 * Request bodies are read as Toxiproxy reads them (Go's json.NewDecoder(body).Decode). Each pair is
 * a body POSTed to /proxies and the error a real toxiproxy-server 2.12.0 answered (recorded from one
 * built from the Shopify/toxiproxy tag); the embedded server must answer the same words.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/server.ts';

const RECORDED: Array<[string, string]> = [
  ["{bad json", "bad request body: invalid character 'b' looking for beginning of object key string"],
  ["[{", "bad request body: unexpected EOF"],
  ["", "bad request body: EOF"],
  ["   ", "bad request body: EOF"],
  ["01", "bad request body: json: cannot unmarshal number into Go value of type toxiproxy.Proxy"],
  ["{\"a\":01}", "bad request body: invalid character '1' after object key:value pair"],
  ["-", "bad request body: unexpected EOF"],
  ["1.x", "bad request body: invalid character 'x' after decimal point in numeric literal"],
  ["tru", "bad request body: unexpected EOF"],
  ["nul ", "bad request body: invalid character ' ' in literal null (expecting 'l')"],
  ["{\"a\" 1}", "bad request body: invalid character '1' after object key"],
  ["{\"a\":1 \"b\"}", "bad request body: invalid character '\"' after object key:value pair"],
  ["[1 2]", "bad request body: invalid character '2' after array element"],
  ["\"a\\q\"", "bad request body: invalid character 'q' in string escape code"],
  ["\"\\u12G4\"", "bad request body: invalid character 'G' in \\u hexadecimal character escape"],
  ["{\"a\":\"\u0001\"}", "bad request body: invalid character '\\x01' in string literal"],
  ["{'a':1}", "bad request body: invalid character '\\'' looking for beginning of object key string"],
  ["[1,]", "bad request body: invalid character ']' looking for beginning of value"],
  ["{\"a\":1,}", "bad request body: invalid character '}' looking for beginning of object key string"],
  ["\u00e9", "bad request body: invalid character '\u00c3' looking for beginning of value"],
  ["{\"x\":1e}", "bad request body: invalid character '}' in exponent of numeric literal"],
  ["{\"a\":-}", "bad request body: invalid character '}' in numeric literal"],
  ["{\"a\":tx}", "bad request body: invalid character 'x' in literal true (expecting 'r')"],
  ["{\"a\":\"b\"", "bad request body: unexpected EOF"],
  ["{\"a\":1}}", "missing required field: name"],
  ["\u0000", "bad request body: invalid character '\\x00' looking for beginning of value"],
];

let server: ToxiproxyServer;
beforeAll(async () => {
  server = await startToxiproxyServer();
});
afterAll(async () => {
  await server?.close();
});

async function errorFor(body: string): Promise<string> {
  const res = await fetch(`${server.url}/proxies`, { method: 'POST', body });
  return (JSON.parse(await res.text()) as { error: string }).error;
}

describe('request bodies, as encoding/json reads them', () => {
  it('answers every recorded body with toxiproxy-server 2.12.0\'s words', async () => {
    const mismatches: string[] = [];
    for (const [body, expected] of RECORDED) {
      const got = await errorFor(body);
      if (got !== expected) mismatches.push(`${JSON.stringify(body)}: expected ${expected}, got ${got}`);
    }
    expect(mismatches).toEqual([]);
  });

  // Also answered so by the real server.
  it('refuses nesting past encoding/json\'s depth of 10,000 and reads 10,000 deep without overflowing', async () => {
    expect(await errorFor('['.repeat(10_001))).toBe("bad request body: invalid character '[' exceeded max depth");
    expect(await errorFor('['.repeat(10_000) + ']'.repeat(10_000))).toBe('bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy');
    const deepName = `{"name":${'['.repeat(500)}1${']'.repeat(500)},"upstream":"x:1"}`;
    expect(await errorFor(deepName)).toBe('bad request body: json: cannot unmarshal array into Go struct field Proxy.name of type string');
  });
});
