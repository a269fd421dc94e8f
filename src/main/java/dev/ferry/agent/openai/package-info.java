/**
 * The {@code openai} agent backend: any OpenAI-compatible chat-completions server (OpenAI, vLLM,
 * llama.cpp's llama-server, Ollama's {@code /v1}). It receives an {@link dev.ferry.agent.AgentRequest}
 * per turn, sends the system prompt, history and prompt as chat messages, reads the streamed reply as
 * server-sent events (or a whole completion), tells the turn's observer each text delta, and hands back
 * the whole reply, or an {@link dev.ferry.agent.AgentFailure} once its retries are spent. It never puts the
 * API key anywhere but the request's header, and never holds a thread for a turn.
 */
package dev.ferry.agent.openai;
