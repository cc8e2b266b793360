/**
 * The API's fixed error values and their status codes, in one place (Toxiproxy's api.go).
 * Anything thrown that is not an ApiError becomes a 500 with its message, as Toxiproxy does.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): { error: string; status: number } {
    return { error: this.message, status: this.status };
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

export const apiErrors = {
  badRequestBody: (detail: string) => new ApiError(`bad request body: ${detail}`, 400),
  missingField: (detail: string) => new ApiError(`missing required field: ${detail}`, 400),
  proxyNotFound: () => new ApiError('proxy not found', 404),
  proxyAlreadyExists: () => new ApiError('proxy already exists', 409),
  invalidStream: () => new ApiError('stream was invalid, can be either upstream or downstream', 400),
  invalidToxicType: () => new ApiError('invalid toxic type', 400),
  toxicAlreadyExists: () => new ApiError('toxic already exists', 409),
  toxicNotFound: () => new ApiError('toxic not found', 404),
};

/** Internal, not a status: Toxiproxy's ErrProxyAlreadyStarted, ignored by /reset. */
export class ProxyAlreadyStarted extends Error {
  constructor() {
    super('Proxy already started');
  }
}
