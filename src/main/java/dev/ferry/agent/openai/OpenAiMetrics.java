package dev.ferry.agent.openai;

import java.time.Duration;

import dev.ferry.agent.AgentFailure;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The model-call meters: how long a whole call took, how long until its first token, the tokens the
 * server reports, and the failures by kind. Registering is idempotent in Micrometer, so a backend rebuilt
 * by a reload shares the meters of the one before it. Thread-safe.
 */
final class OpenAiMetrics {

    private final MeterRegistry registry;
    private final Timer latency;
    private final Timer firstToken;
    private final Counter tokensIn;
    private final Counter tokensOut;

    OpenAiMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.latency = Timer.builder("ferry.model.latency").description("A whole model call, retries included")
                .tag("backend", "openai").publishPercentileHistogram().register(registry);
        this.firstToken = Timer.builder("ferry.model.first.token").description("From a call's request to its first reply token")
                .tag("backend", "openai").publishPercentileHistogram().register(registry);
        this.tokensIn = tokens("in");
        this.tokensOut = tokens("out");
    }

    private Counter tokens(String direction) {
        return Counter.builder("ferry.model.tokens").description("Tokens as the model server reports them")
                .tag("backend", "openai").tag("direction", direction).register(registry);
    }

    void recordLatency(long millis) {
        latency.record(Duration.ofMillis(millis));
    }

    void recordFirstToken(long millis) {
        firstToken.record(Duration.ofMillis(millis));
    }

    void countTokens(ChunkReader.Usage usage) {
        tokensIn.increment((double) usage.promptTokens());
        tokensOut.increment((double) usage.completionTokens());
    }

    void countError(AgentFailure.Kind kind) {
        Counter.builder("ferry.model.errors").description("Model calls that failed, after their retries")
                .tag("backend", "openai").tag("kind", kind.wireName()).register(registry).increment();
    }
}
