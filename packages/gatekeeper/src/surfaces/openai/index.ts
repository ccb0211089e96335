/** The OpenAI-compatible surface (registered when `llm:` is configured). */
import type { SurfaceModule } from '../../surface.js';
import { registerOpenAIRoutes } from './routes.js';

export const openaiSurface: SurfaceModule = {
  name: 'openai',
  register(router, deps) {
    return registerOpenAIRoutes(router, deps, deps.env);
  },
};

export { registerOpenAIRoutes, type OpenAISurface } from './routes.js';
export { ModelRouter, type Endpoint, type Upstream } from '../../llm/upstreams.js';
export { SseParser, encodeSse, type SseEvent } from '../../llm/sse.js';
export { ChatStreamGate, type ChatStreamOptions } from './chat-stream.js';
export { ResponsesStreamGate, type ResponsesStreamOptions } from './responses-stream.js';
export { judgeToolCall, type ProposedToolCall, type ToolCallPolicy, type ToolVerdict } from '../../llm/tool-judge.js';
export { openAIErrorBody } from './errors.js';
