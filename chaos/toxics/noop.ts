/** noop: passes everything through. Registered, as in Toxiproxy, so `"type": "noop"` is valid. */
import { passThrough, registerToxic } from './toxic.ts';

registerToxic({
  type: 'noop',
  goName: 'NoopToxic',
  attributes: {},
  pipe: (_attributes, stub) => passThrough(stub),
});
