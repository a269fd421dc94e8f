package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigValidationTest {

    private static List<String> errorsOf(String text) {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(text, null));
        assertThat(e).as("expected %s to be rejected", text).isNotNull();
        assertThat(e.getMessage()).isEqualTo(String.join("; ", e.errors()));
        return e.errors();
    }

    @Test
    void queueCapZeroIsRejectedWithSpecMessage() {
        assertThat(errorsOf("{messages: {queue: {cap: 0}}}")).containsExactly("messages.queue.cap: must be >= 1, got 0");
    }

    @Test
    void queueMaxWaitMustBeAnIntegerAtLeastZero() {
        assertThat(errorsOf("{messages: {queue: {maxWaitMs: -1}}}"))
                .containsExactly("messages.queue.maxWaitMs: must be >= 0, got -1");
        assertThat(errorsOf("{messages: {queue: {byChannel: {webchat: {maxWaitMs: -5}}, maxWaitMs: '5s'}}}"))
                .containsExactlyInAnyOrder(
                        "messages.queue.maxWaitMs: must be an integer, got \"5s\"",
                        "messages.queue.byChannel.webchat.maxWaitMs: must be >= 0, got -5");
    }

    @Test
    void reportsEveryErrorWithItsPath() {
        String text = """
                {
                  gateway: { port: "abc", bind: " ", shutdownTimeoutMs: -1 },
                  journal: { sync: "fast", retentionDays: 0 },
                  session: { scope: 3 },
                  agent: { maxConcurrent: 0, historyTurns: 1.5, openai: { temperature: 3, stream: "yes" } },
                  messages: { inbound: { maxBatch: 0 }, queue: { mode: "bogus", drop: "all" } },
                  channels: { telegram: { pollTimeoutS: 51, allowFrom: ["*", 7, "not an id!"] } },
                }
                """;

        assertThat(errorsOf(text)).containsExactlyInAnyOrder(
                "gateway.port: must be an integer, got \"abc\"",
                "gateway.bind: must not be blank",
                "gateway.shutdownTimeoutMs: must be >= 0, got -1",
                "journal.sync: must be one of full, normal, got \"fast\"",
                "journal.retentionDays: must be >= 1, got 0",
                "session.scope: must be one of conversation, sender, main, got 3",
                "agent.maxConcurrent: must be >= 1, got 0",
                "agent.historyTurns: must be an integer, got 1.5",
                "agent.openai.temperature: must be between 0 and 2, got 3",
                "agent.openai.stream: must be a boolean, got \"yes\"",
                "messages.inbound.maxBatch: must be >= 1, got 0",
                "messages.queue.mode: must be one of followup, collect, steer, steer-backlog, interrupt, got \"bogus\"",
                "messages.queue.drop: must be one of new, old, summarize, got \"all\"",
                "channels.telegram.pollTimeoutS: must be between 0 and 50, got 51",
                "channels.telegram.allowFrom[2]: must be a user id, an \"@username\" or \"*\", got \"not an id!\"");
    }

    @Test
    void rejectsUnknownKeyAndSuggestsTheNearestOne() {
        assertThat(errorsOf("{gateway: {prot: 1}}")).containsExactly("gateway.prot: unknown key (did you mean 'port'?)");
        assertThat(errorsOf("{messages: {queue: {debounceMS: 1}}}"))
                .containsExactly("messages.queue.debounceMS: unknown key (did you mean 'debounceMs'?)");
        assertThat(errorsOf("{gatewya: {}}")).containsExactly("gatewya: unknown key (did you mean 'gateway'?)");
        assertThat(errorsOf("{agent: {colour: 'blue'}}")).containsExactly("agent.colour: unknown key");
    }

    @Test
    void rejectsUnknownKeysInsideByChannelOverrides() {
        assertThat(errorsOf("{messages: {queue: {byChannel: {webchat: {mode: 'collect', capp: 3}}}}}"))
                .containsExactly("messages.queue.byChannel.webchat.capp: unknown key (did you mean 'cap'?)");
    }

    @Test
    void byChannelKeysMustNameAChannel() {
        assertThat(errorsOf("{messages: {inbound: {byChannel: {sms: 10, telegram: -1}}}}")).containsExactly(
                "messages.inbound.byChannel.sms: unknown channel (expected one of control, telegram, webchat, webhook)",
                "messages.inbound.byChannel.telegram: must be >= 0, got -1");
        assertThat(errorsOf("{messages: {queue: {byChannel: {irc: {}, webhook: 5, control: {cap: 0, drop: 'x'}}}}}"))
                .containsExactly(
                        "messages.queue.byChannel.irc: unknown channel (expected one of control, telegram, webchat, webhook)",
                        "messages.queue.byChannel.webhook: must be an object, got a number",
                        "messages.queue.byChannel.control.cap: must be >= 1, got 0",
                        "messages.queue.byChannel.control.drop: must be one of new, old, summarize, got \"x\"");
    }

    @Test
    void byChannelKeysAreCheckedAgainstTheChannelNamesHandedIn() throws Exception {
        String text = "{messages: {inbound: {byChannel: {sms: 10}}, queue: {byChannel: {webhook: {cap: 2}}}}}";

        MessagesConfig messages = ConfigLoader.parse(text, null, ChannelNames.of("webhook", "sms")).config().messages();
        ConfigException refused = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(text, null, ChannelNames.of("webhook")));

        assertThat(messages.inbound().debounceMsFor("sms")).isEqualTo(10);
        assertThat(refused.errors()).containsExactly(
                "messages.inbound.byChannel.sms: unknown channel (expected one of webhook)");
    }

    @Test
    void nonLoopbackBindWithoutTokenIsRejected() throws Exception {
        assertThat(errorsOf("{gateway: {bind: '0.0.0.0'}}"))
                .containsExactly("gateway.auth.token: required when gateway.bind is not loopback (got \"0.0.0.0\")");
        assertThat(ConfigLoader.parse("{gateway: {bind: '0.0.0.0', auth: {token: 't'}}}", null).config()
                .gateway().authToken().isPresent()).isTrue();
        assertThat(ConfigLoader.parse("{gateway: {bind: '127.0.0.2'}}", null).config().gateway().bind())
                .isEqualTo("127.0.0.2");
        assertThat(ConfigLoader.parse("{gateway: {bind: 'localhost'}}", null).config().gateway().isLoopbackBind())
                .isTrue();
    }

    @Test
    void malformedTokenIsReportedOnceEvenOnANonLoopbackBind() {
        assertThat(errorsOf("{gateway: {bind: '0.0.0.0', auth: {token: 42}}}"))
                .containsExactly("gateway.auth.token: must be a string");
    }

    @Test
    void nanIsNotANumber() {
        assertThat(errorsOf("{agent: {openai: {temperature: NaN}}}")).singleElement().asString()
                .matches("<config>: syntax error at line 1 column \\d+: NaN and Infinity are not numbers here");
    }

    @Test
    void commandBackendRequiresArgv() throws Exception {
        assertThat(errorsOf("{agent: {backend: 'command'}}"))
                .containsExactly("agent.command.argv: required when agent.backend is \"command\"");
        assertThat(errorsOf("{agent: {backend: 'command', command: {argv: []}}}"))
                .containsExactly("agent.command.argv: required when agent.backend is \"command\"");
        assertThat(ConfigLoader.parse("{agent: {backend: 'command', command: {argv: ['x']}}}", null)
                .config().agent().command().argv()).containsExactly("x");
    }

    @Test
    void backendMustBeKnown() {
        assertThat(errorsOf("{agent: {backend: 'claude'}}"))
                .containsExactly("agent.backend: must be one of echo, openai, command, got \"claude\"");
    }

    @Test
    void urlsMustBeAbsoluteHttp() {
        assertThat(errorsOf("{channels: {webhook: {replyUrl: 'ftp://x/y'}, telegram: {apiBaseUrl: '/relative'}},"
                + " agent: {openai: {baseUrl: 'localhost:8080'}}}"))
                .containsExactlyInAnyOrder(
                        "channels.webhook.replyUrl: must be an absolute http(s) URL, got \"ftp://x/y\"",
                        "channels.telegram.apiBaseUrl: must be an absolute http(s) URL, got \"/relative\"",
                        "agent.openai.baseUrl: must be an absolute http(s) URL, got \"localhost:8080\"");
    }

    @Test
    void webhookConcurrentSendsMustBeBetweenOneAnd1024() {
        assertThat(errorsOf("{channels: {webhook: {maxConcurrentSends: 0}}}"))
                .containsExactly("channels.webhook.maxConcurrentSends: must be between 1 and 1024, got 0");
        assertThat(errorsOf("{channels: {webhook: {maxConcurrentSends: 1025}}}"))
                .containsExactly("channels.webhook.maxConcurrentSends: must be between 1 and 1024, got 1025");
    }

    @Test
    void portRangeAllowsZeroForAnEphemeralPort() throws Exception {
        assertThat(ConfigLoader.parse("{gateway: {port: 0}}", null).config().gateway().port()).isZero();
        assertThat(errorsOf("{gateway: {port: 65536}}"))
                .containsExactly("gateway.port: must be between 0 and 65535, got 65536");
        assertThat(errorsOf("{gateway: {port: 99999999999999999999999}}"))
                .containsExactly("gateway.port: must be between 0 and 65535, got 99999999999999999999999");
    }

    @Test
    void timeoutsMustBePositive() {
        assertThat(errorsOf("{agent: {openai: {timeoutMs: 0, maxTokens: 0}, command: {timeoutMs: 0}}}"))
                .containsExactly(
                        "agent.openai.timeoutMs: must be >= 1, got 0",
                        "agent.openai.maxTokens: must be >= 1, got 0",
                        "agent.command.timeoutMs: must be >= 1, got 0");
    }

    @Test
    void longValuesAreEchoedShortened() {
        String longText = "x".repeat(100);

        List<String> errors = errorsOf("{gateway: {port: '" + longText + "'}}");

        assertThat(errors).singleElement().asString()
                .isEqualTo("gateway.port: must be an integer, got \"" + "x".repeat(36) + "...");
    }

    @Test
    void sectionThatIsNotAnObjectIsNamedWithoutItsValue() {
        assertThat(errorsOf("{gateway: {auth: 'oops-secret'}}"))
                .containsExactly("gateway.auth: must be an object, got a string");
    }

    @Test
    void allowedOriginsAreReadAsABrowserSendsThem() throws Exception {
        assertThat(ConfigLoader.parse("{}", null).config().gateway().allowedOrigins()).isEmpty();
        assertThat(ConfigLoader.parse("{gateway: {allowedOrigins: ['HTTPS://App.Example', 'http://x.example:80',"
                + " 'https://y.example:8443', 'http://[::1]:9000']}}", null).config().gateway().allowedOrigins())
                .containsExactly("https://app.example", "http://x.example", "https://y.example:8443", "http://[::1]:9000");
    }

    @Test
    void anAllowedOriginThatIsNotAnOriginIsRejectedByIndex() {
        assertThat(errorsOf("{gateway: {allowedOrigins: 'https://app.example'}}"))
                .containsExactly("gateway.allowedOrigins: must be a list of strings, got \"https://app.example\"");
        assertThat(errorsOf("{gateway: {allowedOrigins: ['https://ok.example', 7, 'ftp://x.example',"
                + " 'https://x.example/', 'https://x.example/app', 'https://u:p@x.example', 'app.example', '*']}}"))
                .containsExactly(
                        "gateway.allowedOrigins[1]: must be a string, got 7");
        assertThat(errorsOf("{gateway: {allowedOrigins: ['https://ok.example', 'ftp://x.example',"
                + " 'https://x.example/', 'https://x.example/app?q', 'https://u:p@x.example', 'app.example', '*']}}"))
                .containsExactly(
                        "gateway.allowedOrigins[1]: must start with http:// or https://, got \"ftp://x.example\"",
                        "gateway.allowedOrigins[2]: must be scheme://host[:port], with no path, query or fragment"
                                + " (not even a trailing /), got \"https://x.example/\"",
                        "gateway.allowedOrigins[3]: must be scheme://host[:port], with no path, query or fragment"
                                + " (not even a trailing /), got \"https://x.example/app?q\"",
                        "gateway.allowedOrigins[4]: must be scheme://host[:port], got \"https://u:p@x.example\"",
                        "gateway.allowedOrigins[5]: must start with http:// or https://, got \"app.example\"",
                        "gateway.allowedOrigins[6]: must start with http:// or https://, got \"*\"");
    }
}
