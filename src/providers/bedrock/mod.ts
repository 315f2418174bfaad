// The public surface of the Bedrock folder: the adapter, the event-stream codec (also used by the
// Bedrock drop-in route to answer in Bedrock's own framing) and the SigV4 signer.
export {
  BEDROCK_SERVICE,
  bedrockAdapter,
  converseBody,
  modelUrl,
  STREAM_EXCEPTION_STATUS,
} from "./adapter.ts";
export {
  crc32,
  decodeMessage,
  encodeMessage,
  eventFrame,
  EventStreamDecoder,
  type EventStreamMessage,
  type EventStreamMessageInput,
  exceptionFrame,
  type HeaderValue,
  readEventStream,
  stringHeader,
} from "./eventstream.ts";
export { type AwsCredentials, signRequest, type SignRequestInput } from "./sigv4.ts";
