// Gateway errors and stream failures as Bedrock names them (x-amzn-errortype, :exception-type).

// ---------------------------------------------------------------------------------------------
// Errors

/** The Bedrock exception name (the `x-amzn-errortype`) for a gateway error answer. */
export function exceptionName(status: number, type: string): string {
  if (type === "rate_limit" || status === 429) return "ThrottlingException";
  if (status === 404 || type === "model_unavailable") return "ResourceNotFoundException";
  if (status === 403) return "AccessDeniedException";
  if (status === 400 || status === 413 || status === 422) return "ValidationException";
  if (status === 503) return "ServiceUnavailableException";
  if (status === 504 || type === "timeout") return "ModelTimeoutException";
  return "InternalServerException";
}

/** The ConverseStream exception (`:exception-type`) that ends a stream after a failure. */
export function streamExceptionName(kind: string): string {
  if (kind === "rate_limit") return "throttlingException";
  if (kind === "caller_fault") return "validationException";
  return "modelStreamErrorException";
}
