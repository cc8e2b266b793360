// A proxy data worker's entry (./data-workers.ts): runs the TypeScript through tsx, as bin/ does.
import { register } from 'tsx/esm/api';

register();
await import('./data-worker.ts');
