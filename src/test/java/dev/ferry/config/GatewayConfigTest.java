package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GatewayConfigTest {

    private static GatewayConfig boundTo(String bind) {
        return new GatewayConfig(bind, 18789, null, 0, new ReloadConfig(0, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST"})
    void loopbackAddressesAreRecognised(String bind) {
        assertThat(boundTo(bind).isLoopbackBind()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "::", "192.168.1.5", "128.0.0.1", "127.0.0.256", "127.1", "example.com",
        "localhost.example.com", ""})
    void otherAddressesAreNotLoopback(String bind) {
        assertThat(boundTo(bind).isLoopbackBind()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1"})
    void missingTokenIsNone(String bind) {
        assertThat(boundTo(bind).authToken()).isSameAs(Secret.NONE);
    }
}
