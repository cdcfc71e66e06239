package dev.art4j.rollout.server;

import dev.art4j.rollout.agent.ChatCompletions;
import dev.art4j.rollout.completion.CompletionSource;

/**
 * What a request's {@code model} names: the base model or a loaded LoRA adapter, with the source
 * that samples for it and the conversations it keeps (one store per model, so a trajectory never
 * mixes two policies).
 */
record Target(String name, CompletionSource source, ChatCompletions chats, String path) {}
