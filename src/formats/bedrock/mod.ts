// Bedrock Runtime's Converse API (the AWS SDK) as an inbound wire format.
export { bedrockConverse, bedrockError, type BedrockParams } from "./format.ts";
