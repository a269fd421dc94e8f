package dev.ferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.testing.Fifos;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void missingFileGivesDefaults() throws Exception {
        Path file = dir.resolve("ferry.json5");

        LoadedConfig loaded = ConfigLoader.load(file);

        assertThat(loaded.fromFile()).isFalse();
        assertThat(loaded.path()).isEqualTo(file);
        assertThat(loaded.config()).isEqualTo(FerryConfig.defaults());
        assertThat(loaded.hash()).isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    @Test
    void defaultsMatchTheSpec() {
        FerryConfig config = FerryConfig.defaults();
        Path home = HomePaths.ofProcess().home();

        assertThat(config.gateway()).isEqualTo(
                new GatewayConfig("127.0.0.1", 18789, Secret.NONE, 25000, new ReloadConfig(5000, 30000)));
        assertThat(config.state().dir()).isEqualTo(home.resolve(".ferry").resolve("state"));
        assertThat(config.journal()).isEqualTo(new JournalConfig(JournalSync.FULL, 7));
        assertThat(config.session().scope()).isEqualTo(SessionScope.CONVERSATION);
        assertThat(config.agent()).isEqualTo(new AgentConfig("echo", 8, "", 20, new EchoConfig(0),
                new OpenAiConfig("http://127.0.0.1:8080/v1", "", "OPENAI_API_KEY", true, 120000, 1024, 0.7),
                new CommandConfig(java.util.List.of(), 120000)));
        assertThat(config.messages().inbound()).isEqualTo(new InboundConfig(0, 0, 50, 2048, Map.of()));
        assertThat(config.messages().queue()).isEqualTo(
                new QueueConfig(QueueMode.COLLECT, 1000, 0, 20, DropPolicy.SUMMARIZE, true, Map.of()));
        assertThat(config.channels().webhook()).isEqualTo(new WebhookConfig(true, Secret.NONE, null, 16));
        assertThat(config.channels().webchat().enabled()).isTrue();
        assertThat(config.channels().telegram()).isEqualTo(new TelegramConfig(false, Secret.NONE, "TELEGRAM_BOT_TOKEN",
                "https://api.telegram.org", 30, java.util.List.of("*"), true));
    }

    @Test
    void emptyOrCommentOnlyFileMeansDefaults() throws Exception {
        for (String text : new String[] {"", "  \n\t ", "// nothing here\n/* still\n nothing */\n", "{}"}) {
            assertThat(ConfigLoader.parse(text, null).config()).as("for %s", text).isEqualTo(FerryConfig.defaults());
        }
    }

    @Test
    void acceptsCommentsUnquotedKeysAndTrailingCommas() throws Exception {
        String text = """
                // Ferry configuration
                {
                  gateway: { port: +8080, /* inline */ reload: { drainTimeoutMs: 100, }, },
                  'journal': { sync: 'normal', retentionDays: 3. },
                  agent: { openai: { temperature: .5 }, },
                  "session": { "scope": "sender" },
                }
                """;

        FerryConfig config = ConfigLoader.parse(text, null).config();

        assertThat(config.gateway().port()).isEqualTo(8080);
        assertThat(config.gateway().reload()).isEqualTo(new ReloadConfig(100, 30000));
        assertThat(config.journal()).isEqualTo(new JournalConfig(JournalSync.NORMAL, 3));
        assertThat(config.agent().openai().temperature()).isEqualTo(0.5);
        assertThat(config.session().scope()).isEqualTo(SessionScope.SENDER);
    }

    @Test
    void theSharedJournalIsChosenWithItsDatabaseAndThePasswordsVariable() throws Exception {
        FerryConfig config = ConfigLoader.parse("""
                { journal: { engine: "postgres", postgres: { url: "jdbc:postgresql://db.internal:5433/ferry",
                  user: "gw", passwordEnv: "GW_DB_PASSWORD", leaseTtlMs: 4000, notify: false } } }""", null).config();

        assertThat(config.journal().engine()).isEqualTo(JournalEngine.POSTGRES);
        assertThat(config.journal().postgres()).isEqualTo(
                new PostgresConfig("jdbc:postgresql://db.internal:5433/ferry", "gw", "GW_DB_PASSWORD", 4000, false));
        assertThat(FerryConfig.defaults().journal().engine()).as("SQLite stays the default").isEqualTo(JournalEngine.SQLITE);
    }

    @Test
    void aDatabaseUrlCarryingItsPasswordIsRefusedWithoutShowingIt() {
        assertThatThrownBy(() -> ConfigLoader.parse("""
                { journal: { engine: "postgres",
                  postgres: { url: "jdbc:postgresql://db/ferry?user=gw&password=hunter2secret" } } }""", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement().asString()
                        .contains("journal.postgres.url").contains("passwordEnv").doesNotContain("hunter2secret"));
        assertThatThrownBy(() -> ConfigLoader.parse("{ journal: { engine: 'mysql', postgres: { url: 'http://db' } } }", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).hasSize(2));
    }

    @Test
    void explicitNullMeansDefault() throws Exception {
        FerryConfig config = ConfigLoader.parse("{gateway: {port: null, auth: null}, messages: null}", null).config();

        assertThat(config).isEqualTo(FerryConfig.defaults());
    }

    @Test
    void readsTheWholeSpecExample() throws Exception {
        String text = """
                {
                  gateway: { bind: "0.0.0.0", port: 18790, auth: { token: "gw-token" }, shutdownTimeoutMs: 1000,
                             reload: { drainTimeoutMs: 200, deferralTimeoutMs: 300 } },
                  state: { dir: "/var/lib/ferry" },
                  journal: { sync: "normal", retentionDays: 30 },
                  session: { scope: "main" },
                  agent: { backend: "command", maxConcurrent: 2, systemPrompt: "Be brief.", historyTurns: 0,
                           echo: { delayMs: 50 },
                           openai: { baseUrl: "https://llm.example/v1", model: "m", apiKeyEnv: "KEY",
                                     stream: false, timeoutMs: 5000, maxTokens: 64, temperature: 2 },
                           command: { argv: ["my-agent", "--flag"], timeoutMs: 9000 } },
                  messages: {
                    inbound: { debounceMs: 300, maxWaitMs: 0, maxBatch: 10, maxTrackedKeys: 16,
                               byChannel: { telegram: 1500 } },
                    queue: { mode: "followup", debounceMs: 0, cap: 5, drop: "old", notifyDrops: false,
                             byChannel: { webchat: { mode: "interrupt", cap: 2 } } },
                  },
                  channels: {
                    webhook: { enabled: false, token: "wh-token", replyUrl: "http://127.0.0.1:9000/replies",
                               maxConcurrentSends: 4 },
                    webchat: { enabled: false },
                    telegram: { enabled: true, botToken: "123:abc", botTokenEnv: "TG", apiBaseUrl: "http://127.0.0.1:1",
                                pollTimeoutS: 0, allowFrom: ["42", "@alice"], requireMention: false },
                  },
                }
                """;

        FerryConfig config = ConfigLoader.parse(text, null).config();

        assertThat(config.gateway().authToken().reveal()).isEqualTo("gw-token");
        assertThat(config.gateway().isLoopbackBind()).isFalse();
        assertThat(config.state().dir()).isEqualTo(Path.of("/var/lib/ferry"));
        assertThat(config.agent().backend()).isEqualTo("command");
        assertThat(config.agent().command()).isEqualTo(new CommandConfig(java.util.List.of("my-agent", "--flag"), 9000));
        assertThat(config.agent().openai()).isEqualTo(
                new OpenAiConfig("https://llm.example/v1", "m", "KEY", false, 5000, 64, 2.0));
        assertThat(config.messages().inbound().maxWaitMsFor("telegram")).isEqualTo(7500);
        assertThat(config.messages().queue().settingsFor("webchat"))
                .isEqualTo(new QueueSettings(QueueMode.INTERRUPT, 0, 2, DropPolicy.OLD));
        assertThat(config.channels().webhook().token().reveal()).isEqualTo("wh-token");
        assertThat(config.channels().webhook().maxConcurrentSends()).isEqualTo(4);
        assertThat(config.channels().telegram().botToken().reveal()).isEqualTo("123:abc");
        assertThat(config.channels().telegram().allowFrom()).containsExactly("42", "@alice");
    }

    @Test
    void hashIsSha256OfFileBytes() throws Exception {
        byte[] bytes = "{ gateway: { port: 1234 } } // ünïcode\n".getBytes(StandardCharsets.UTF_8);
        Path file = Files.write(dir.resolve("ferry.json5"), bytes);

        LoadedConfig loaded = ConfigLoader.load(file);

        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        assertThat(loaded.hash()).isEqualTo(expected).matches("[0-9a-f]{64}");
        assertThat(loaded.fromFile()).isTrue();
        assertThat(loaded.config().gateway().port()).isEqualTo(1234);
        assertThat(ConfigLoader.parse(new String(bytes, StandardCharsets.UTF_8), file).hash()).isEqualTo(expected);
    }

    @Test
    void syntaxErrorNamesFileLineAndColumn() throws IOException {
        Path file = Files.writeString(dir.resolve("ferry.json5"), "{\n  gateway: { port: 1 \n  state: {}\n}\n");

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement()
                        .asString().startsWith(file + ": syntax error at line 3 column "));
    }

    @Test
    void syntaxErrorNeverQuotesAnUnquotedSecret() {
        assertThatThrownBy(() -> ConfigLoader.parse("{channels: {webhook: {token: hunter2secret}}}", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.errors()).singleElement().asString().startsWith("<config>: syntax error at line 1");
                    assertThat(e.getMessage()).doesNotContain("hunter2secret");
                });
    }

    @Test
    void aLoneSurrogateEscapeInAValueOrKeyIsRefusedNamingItsPathButNotItsText() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.parse("{channels: {webhook: {replyUrl: 'http://h/\\udc00x'}}}", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement().asString()
                        .startsWith("<config>: not valid Unicode at channels.webhook.replyUrl"));
        assertThatThrownBy(() -> ConfigLoader.parse("{agent: {systemPrompt: 'ok'}, messages: {queue: {byChannel: {'\\ud800': {}}}}}", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.getMessage()).contains("surrogate"));
        assertThat(ConfigLoader.parse("{agent: {systemPrompt: 'a pair is fine: \\ud83d\\ude00'}}", null).config()
                .agent().systemPrompt()).isEqualTo("a pair is fine: \ud83d\ude00");
    }

    @Test
    void duplicateKeysAreSyntaxErrors() {
        assertThatThrownBy(() -> ConfigLoader.parse("{gateway: {port: 1, port: 2}}", null))
                .isInstanceOfSatisfying(ConfigException.class,
                        e -> assertThat(e.getMessage()).contains("syntax error").contains("port"));
    }

    @Test
    void nonObjectTopLevelIsRejected() {
        assertThatThrownBy(() -> ConfigLoader.parse("[1, 2]", null))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly("<config>: the top level must be an object, got a list"));
    }

    @Test
    void unreadableFileNamesPathAndReason() {
        assertThatThrownBy(() -> ConfigLoader.load(dir))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(dir + ": cannot read: is a directory"));
    }

    @Test
    void invalidUtf8IsReportedAsUnreadable() throws IOException {
        Path file = Files.write(dir.resolve("ferry.json5"), new byte[] {'{', (byte) 0xC3, '}'});

        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(file + ": cannot read: not valid UTF-8"));
    }

    @Test
    void byteOrderMarkIsIgnored() throws Exception {
        Path file = Files.write(dir.resolve("ferry.json5"),
                "\uFEFF{gateway: {port: 9}}".getBytes(StandardCharsets.UTF_8));

        assertThat(ConfigLoader.load(file).config().gateway().port()).isEqualTo(9);
    }

    @Test
    void stateDirExpandsTildeAndAnchorsRelativePathsAtTheFile() throws Exception {
        Path file = dir.resolve("conf").resolve("ferry.json5");
        Path home = HomePaths.ofProcess().home();

        assertThat(ConfigLoader.parse("{state: {dir: '~/x/y'}}", file).config().state().dir())
                .isEqualTo(home.resolve("x/y"));
        assertThat(ConfigLoader.parse("{state: {dir: 'data'}}", file).config().state().dir())
                .isEqualTo(dir.resolve("conf").resolve("data").toAbsolutePath());
        assertThat(ConfigLoader.parse("{state: {dir: 'data'}}", null).config().state().dir())
                .isEqualTo(Path.of("data"));
    }

    @Test
    void resolvePathPrefersFlagThenEnvThenHome() {
        Path home = Path.of(System.getProperty("user.home"));
        Map<String, String> env = Map.of("FERRY_CONFIG", "/etc/ferry/env.json5");

        assertThat(ConfigLoader.resolvePath("/tmp/flag.json5", env)).isEqualTo(Path.of("/tmp/flag.json5"));
        assertThat(ConfigLoader.resolvePath(null, env)).isEqualTo(Path.of("/etc/ferry/env.json5"));
        assertThat(ConfigLoader.resolvePath(null, Map.of("FERRY_CONFIG", "  "))).isEqualTo(home.resolve(".ferry/ferry.json5"));
        assertThat(ConfigLoader.resolvePath(null, Map.of())).isEqualTo(home.resolve(".ferry/ferry.json5"));
        assertThat(ConfigLoader.resolvePath("~/mine.json5", env)).isEqualTo(home.resolve("mine.json5"));
    }

    @Test
    void reloadRefusesAMissingFileNamingIt() {
        Path file = dir.resolve("gone.json5");

        assertThatThrownBy(() -> ConfigLoader.reload(file))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors())
                        .containsExactly(file + ": does not exist"));
    }

    @Test
    void reloadRefusesAFileWithNothingButBlanksOrComments() throws IOException {
        Path file = dir.resolve("ferry.json5");
        for (String text : new String[] {"", " \n\t\n", "// emptied by an editor\n/* and nothing else */\n", "\uFEFF"}) {
            Files.writeString(file, text, StandardCharsets.UTF_8);

            assertThatThrownBy(() -> ConfigLoader.reload(file)).as("for %s", text)
                    .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).singleElement()
                            .asString().startsWith(file + ": is empty"));
        }
    }

    @Test
    void reloadTakesAnExplicitEmptyObjectAsTheDefaults() throws Exception {
        Path file = Files.writeString(dir.resolve("ferry.json5"), "// on purpose\n{}\n");

        LoadedConfig loaded = ConfigLoader.reload(file);

        assertThat(loaded.config()).isEqualTo(FerryConfig.defaults());
        assertThat(loaded.fromFile()).isTrue();
        assertThat(loaded.hash()).isEqualTo(ConfigLoader.load(file).hash());
    }

    @Test
    void reloadReadsAFileWithContentAsStartUpDoes() throws Exception {
        Path file = Files.writeString(dir.resolve("ferry.json5"), "{ gateway: { port: 4321 } }");

        assertThat(ConfigLoader.reload(file)).isEqualTo(ConfigLoader.load(file));
    }

    @Test
    void startUpAndReloadRefuseAFifoWithoutOpeningIt() throws Exception {
        Path fifo = Fifos.make(dir.resolve("ferry.json5"));
        String refusal = fifo + ": cannot read: not a regular file (a FIFO, socket or device)";

        // Opening a FIFO with no writer blocks for ever: the timeout turns that into a failure.
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertThatThrownBy(() -> ConfigLoader.load(fifo))
                    .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactly(refusal));
            assertThatThrownBy(() -> ConfigLoader.reload(fifo))
                    .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.errors()).containsExactly(refusal));
        });
    }

    @Test
    void homeIsTheHomeVariableWhenSetAndNonEmptyElseUserHome() {
        Path userHome = Path.of(System.getProperty("user.home"));

        assertThat(HomePaths.of(Map.of("HOME", "/srv/operator")).home()).isEqualTo(Path.of("/srv/operator"));
        assertThat(HomePaths.of(Map.of("HOME", "")).home()).isEqualTo(userHome);
        assertThat(HomePaths.of(Map.of()).home()).isEqualTo(userHome);
        assertThat(HomePaths.of(null).home()).isEqualTo(userHome);
        assertThat(HomePaths.of(Map.of("HOME", "/srv/operator")).expand("~/state")).isEqualTo(Path.of("/srv/operator/state"));
        assertThat(HomePaths.of(Map.of("HOME", "/srv/operator")).expand("~")).isEqualTo(Path.of("/srv/operator"));
        assertThat(HomePaths.of(Map.of("HOME", "/srv/operator")).expand("~other/x")).isEqualTo(Path.of("~other/x"));
    }

    @Test
    void defaultConfigLocationAndTildeFollowTheHomeVariable() {
        Map<String, String> env = Map.of("HOME", "/srv/operator");

        assertThat(ConfigLoader.resolvePath(null, env)).isEqualTo(Path.of("/srv/operator/.ferry/ferry.json5"));
        assertThat(ConfigLoader.resolvePath("~/mine.json5", env)).isEqualTo(Path.of("/srv/operator/mine.json5"));
        assertThat(ConfigLoader.resolvePath(null, Map.of("HOME", "/srv/operator", "FERRY_CONFIG", "~/env.json5")))
                .isEqualTo(Path.of("/srv/operator/env.json5"));
    }

    @Test
    void stateDirTildeFollowsTheHomeVariable() throws Exception {
        HomePaths home = HomePaths.of(Map.of("HOME", "/srv/operator"));
        List<String> errors = new ArrayList<>();
        ObjectNode withDir = Json5Text.parse("{state: {dir: '~/journal'}}", "<test>");

        assertThat(new ConfigBinder(null, home, ChannelNames.registered()).bind(withDir, errors).state().dir()).isEqualTo(Path.of("/srv/operator/journal"));
        assertThat(new ConfigBinder(null, home, ChannelNames.registered()).bind(Json5Text.parse("{}", "<test>"), errors).state().dir())
                .isEqualTo(Path.of("/srv/operator/.ferry/state"));
        assertThat(errors).isEmpty();
    }
}
