package dev.ferry.control.ws;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class WsOriginsTest {

    @Test
    void programsWithoutAnOriginAndTheGatewaysOwnPagesPass() {
        assertThat(WsOrigins.allowed(null, "127.0.0.1", 18789, List.of())).isTrue();
        for (String own : List.of("http://127.0.0.1:18789", "http://localhost:18789", "http://[::1]:18789",
                "HTTP://LocalHost:18789")) {
            assertThat(WsOrigins.allowed(own, "127.0.0.1", 18789, List.of())).as(own).isTrue();
        }
        assertThat(WsOrigins.allowed("http://192.168.1.5:18789", "192.168.1.5", 18789, List.of())).isTrue();
        assertThat(WsOrigins.allowed("http://[fe80::1]:9", "fe80::1", 9, List.of())).isTrue();
        assertThat(WsOrigins.allowed("http://localhost", "127.0.0.1", 80, List.of())).isTrue();
    }

    @Test
    void foreignPagesAreRefusedUnlessConfigured() {
        assertThat(WsOrigins.allowed("https://evil.example", "127.0.0.1", 18789, List.of())).isFalse();
        assertThat(WsOrigins.allowed("http://localhost:8080", "127.0.0.1", 18789, List.of())).isFalse();
        assertThat(WsOrigins.allowed("https://localhost:18789", "127.0.0.1", 18789, List.of())).isFalse();
        assertThat(WsOrigins.allowed("null", "127.0.0.1", 18789, List.of())).isFalse();
        assertThat(WsOrigins.allowed("https://app.example", "127.0.0.1", 18789, List.of("https://app.example"))).isTrue();
    }
}
