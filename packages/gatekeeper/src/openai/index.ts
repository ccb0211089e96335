/** Public API of the OpenAI-compatible surface. */
export { registerOpenAIRoutes, type OpenAISurface } from './routes.js';
export { ModelRouter, type Endpoint, type Upstream } from './upstreams.js';
export { SseParser, encodeSse, type SseEvent } from './sse.js';
export { ChatStreamGate, type ChatStreamOptions } from './chat-stream.js';
export { ResponsesStreamGate, type ResponsesStreamOptions } from './responses-stream.js';
export { judgeToolCall, type ProposedToolCall, type ToolCallPolicy, type ToolVerdict } from './tool-judge.js';
export { openAIErrorBody } from './errors.js';
