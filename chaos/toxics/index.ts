/**
 * Every toxic, registered by importing its file. A new toxic is a new file here plus one import
 * line (see chaos/README.md).
 */
import './noop.ts';
import './latency.ts';
import './bandwidth.ts';
import './slow-close.ts';
import './timeout.ts';
import './reset-peer.ts';
import './slicer.ts';
import './limit-data.ts';

export { toxicDefinition, toxicTypes, type ToxicDefinition, type ToxicStub, type Stage } from './toxic.ts';
