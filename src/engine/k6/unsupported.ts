import { UsageError } from '../../base/errors.ts';

/** The error for a k6 feature the built-in engine does not implement: it ends the run, naming the feature. */
export class UnsupportedFeatureError extends UsageError {
  readonly fatal = true;
  constructor(feature: string, hint = 'run the script with real k6 (--k6 <path>) for it') {
    super(`${feature} is not implemented by the built-in engine; ${hint}`);
  }
}

export const unsupported =
  (feature: string, hint?: string) =>
  (): never => {
    throw new UnsupportedFeatureError(feature, hint);
  };
