/** Store names as flags and options give them: checked here, light enough for the CLI to load eagerly. */
import { STORE_KINDS, type StoreKind } from '../../chaos/store-kinds.ts';
import { UsageError } from '../base/errors.ts';
import { didYouMean } from '../base/suggest.ts';

export { STORE_KINDS, type StoreKind };

/** Checks a store name from a flag or an option; a usage error with a suggestion otherwise. */
export function parseStoreKind(name: string, flag = '--store'): StoreKind {
  if ((STORE_KINDS as readonly string[]).includes(name)) return name as StoreKind;
  throw new UsageError(`${flag}: unknown store '${name}'; stores: ${STORE_KINDS.join(', ')}.${didYouMean(name, STORE_KINDS)}`);
}
