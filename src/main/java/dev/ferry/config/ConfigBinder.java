package dev.ferry.config;

import static dev.ferry.config.ConfigReader.UNBOUNDED;
import static dev.ferry.config.ConfigReader.UNBOUNDED_INT;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * Turns the config tree into a {@link FerryConfig}. Each key's SPEC 3.4 default and allowed range are written
 * beside the key, so this is the one place to look them up. Every problem goes to the error list; the result
 * means something only if that list stayed empty. Not thread-safe; one binder per parse.
 */
final class ConfigBinder {

    private static final List<String> BACKENDS = List.of("echo", "openai", "command");

    /** Where a relative {@code state.dir} is anchored: the config file's directory; null keeps it as written. */
    private final Path baseDir;
    /** What a leading {@code ~} in a path means. */
    private final HomePaths home;
    /** The channel names a by-channel key may take. */
    private final ChannelNames channels;

    ConfigBinder(Path baseDir, HomePaths home, ChannelNames channels) {
        this.baseDir = baseDir;
        this.home = home;
        this.channels = channels;
    }

    static FerryConfig defaults() {
        List<String> errors = new ArrayList<>();
        // The defaults name no channel, so they need no channel names.
        FerryConfig config = new ConfigBinder(null, HomePaths.ofProcess(), ChannelNames.of())
                .bind(JsonNodeFactory.instance.objectNode(), errors);
        if (!errors.isEmpty()) {
            throw new IllegalStateException("built-in defaults are invalid: " + errors);
        }
        return config;
    }

    FerryConfig bind(ObjectNode root, List<String> errors) {
        ConfigReader r = ConfigReader.root(root, errors);
        FerryConfig config = new FerryConfig(
                gateway(r.object("gateway")),
                state(r.object("state")),
                journal(r.object("journal")),
                new SessionConfig(r.object("session").choice("scope", SessionScope.CONVERSATION,
                        named(SessionScope.values()), spellings(SessionScope.values()))),
                agent(r.object("agent")),
                new MessagesBinder(channels).messages(r.object("messages")),
                channels(r.object("channels")));
        r.reportUnknownKeys();
        return config;
    }

    /** The file spelling of an enum without a {@code configName()}: its name in lower case. */
    static String spelling(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }

    static <E extends Enum<E>> Function<String, Optional<E>> named(E[] values) {
        return text -> Arrays.stream(values).filter(v -> spelling(v).equals(text.trim().toLowerCase(Locale.ROOT))).findFirst();
    }

    static List<String> spellings(Enum<?>[] values) {
        return Arrays.stream(values).map(ConfigBinder::spelling).toList();
    }

    private GatewayConfig gateway(ConfigReader r) {
        String bind = r.nonBlankString("bind", "127.0.0.1");
        int port = r.intValue("port", 18789, 0, 65535);
        ConfigReader auth = r.object("auth");
        int errorsBefore = auth.errorCount();
        Secret token = auth.secret("token");
        boolean tokenReported = auth.errorCount() > errorsBefore;
        long shutdownTimeoutMs = r.longValue("shutdownTimeoutMs", 25000, 0, UNBOUNDED);
        ConfigReader reload = r.object("reload");
        ReloadConfig reloadConfig = new ReloadConfig(
                reload.longValue("drainTimeoutMs", 5000, 0, UNBOUNDED),
                reload.longValue("deferralTimeoutMs", 30000, 0, UNBOUNDED));
        GatewayConfig gateway = new GatewayConfig(bind, port, token, shutdownTimeoutMs, reloadConfig, allowedOrigins(r));
        // Anyone who can reach a non-loopback address could drive the agent; SPEC 3.5 refuses to start so.
        // A token already reported as malformed needs no second error saying it is missing.
        if (!gateway.isLoopbackBind() && !token.isPresent() && !tokenReported) {
            auth.error("token", "required when gateway.bind is not loopback (got "
                    + ConfigReader.shown(JsonNodeFactory.instance.textNode(bind)) + ")");
        }
        return gateway;
    }

    /** {@code gateway.allowedOrigins}: each entry read as a browser would send it, each bad one named by index. */
    private static List<String> allowedOrigins(ConfigReader r) {
        List<String> origins = new ArrayList<>();
        List<String> given = r.strings("allowedOrigins", List.of());
        for (int i = 0; i < given.size(); i++) {
            AllowedOrigins.Result read = AllowedOrigins.parse(given.get(i));
            if (read.origin().isPresent()) {
                origins.add(read.origin().get());
            } else {
                r.error("allowedOrigins[" + i + "]", read.error() + ", got "
                        + ConfigReader.shown(JsonNodeFactory.instance.textNode(given.get(i))));
            }
        }
        return origins;
    }

    private StateConfig state(ConfigReader r) {
        String fallback = "~/.ferry/state";
        String text = r.nonBlankString("dir", fallback);
        try {
            Path dir = home.expand(text);
            return new StateConfig(dir.isAbsolute() || baseDir == null ? dir : baseDir.resolve(dir).normalize());
        } catch (InvalidPathException e) {
            r.error("dir", "must be a valid path, got " + ConfigReader.shown(JsonNodeFactory.instance.textNode(text)));
            return new StateConfig(home.expand(fallback));
        }
    }

    private JournalConfig journal(ConfigReader r) {
        return new JournalConfig(
                r.choice("engine", JournalEngine.SQLITE, named(JournalEngine.values()), spellings(JournalEngine.values())),
                r.choice("sync", JournalSync.FULL, named(JournalSync.values()), spellings(JournalSync.values())),
                r.intValue("retentionDays", 7, 1, UNBOUNDED_INT),
                postgres(r.object("postgres")));
    }

    private PostgresConfig postgres(ConfigReader r) {
        PostgresConfig defaults = PostgresConfig.DEFAULTS;
        String url = r.nonBlankString("url", defaults.url());
        if (!url.startsWith("jdbc:postgresql:")) {
            r.error("url", "must be a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database)");
            url = defaults.url();
        } else if (url.toLowerCase(Locale.ROOT).matches(".*[?&]password=.*")) {
            // Never echo it: the URL is shown by config.get, and the value is a secret.
            r.error("url", "must not carry the password; put it in the environment variable named by passwordEnv");
            url = defaults.url();
        }
        return new PostgresConfig(url, r.nonBlankString("user", defaults.user()),
                r.nonBlankString("passwordEnv", defaults.passwordEnv()),
                r.longValue("leaseTtlMs", defaults.leaseTtlMs(), 1_000, 600_000), r.bool("notify", defaults.listenNotify()));
    }

    private AgentConfig agent(ConfigReader r) {
        String backend = r.choice("backend", "echo",
                text -> Optional.of(text.trim().toLowerCase(Locale.ROOT)).filter(BACKENDS::contains), BACKENDS);
        int maxConcurrent = r.intValue("maxConcurrent", 8, 1, UNBOUNDED_INT);
        String systemPrompt = r.string("systemPrompt", "");
        int historyTurns = r.intValue("historyTurns", 20, 0, UNBOUNDED_INT);
        EchoConfig echo = new EchoConfig(r.object("echo").longValue("delayMs", 0, 0, UNBOUNDED));
        OpenAiConfig openai = openai(r.object("openai"));
        ConfigReader commandReader = r.object("command");
        CommandConfig command = command(commandReader);
        if (backend.equals("command") && command.argv().isEmpty()) {
            commandReader.error("argv", "required when agent.backend is \"command\"");
        }
        return new AgentConfig(backend, maxConcurrent, systemPrompt, historyTurns, echo, openai, command);
    }

    private OpenAiConfig openai(ConfigReader r) {
        return new OpenAiConfig(
                r.httpUrl("baseUrl", "http://127.0.0.1:8080/v1"),
                r.string("model", ""),
                r.string("apiKeyEnv", "OPENAI_API_KEY"),
                r.bool("stream", true),
                r.longValue("timeoutMs", 120000, 1, UNBOUNDED),
                r.intValue("maxTokens", 1024, 1, UNBOUNDED_INT),
                r.doubleValue("temperature", 0.7, 0, 2),
                r.longValue("connectTimeoutMs", OpenAiConfig.DEFAULT_CONNECT_TIMEOUT_MS, 1, UNBOUNDED),
                r.longValue("firstTokenTimeoutMs", OpenAiConfig.DEFAULT_FIRST_TOKEN_TIMEOUT_MS, 1, UNBOUNDED),
                r.longValue("idleTimeoutMs", OpenAiConfig.DEFAULT_IDLE_TIMEOUT_MS, 1, UNBOUNDED),
                r.intValue("maxRetries", OpenAiConfig.DEFAULT_MAX_RETRIES, 0, 100));
    }

    private CommandConfig command(ConfigReader r) {
        List<String> argv = r.strings("argv", List.of());
        if (!argv.isEmpty() && argv.get(0).isBlank()) {
            r.error("argv[0]", "must not be blank");
        }
        List<String> inputs = List.of("text", "json");
        CommandConfig.Input input = r.choice("input", CommandConfig.Input.TEXT,
                text -> Optional.of(text.trim().toLowerCase(Locale.ROOT)).filter(inputs::contains)
                        .map(name -> CommandConfig.Input.valueOf(name.toUpperCase(Locale.ROOT))), inputs);
        return new CommandConfig(argv, r.longValue("timeoutMs", 120000, 1, UNBOUNDED), input,
                r.longValue("maxOutputBytes", CommandConfig.DEFAULT_MAX_OUTPUT_BYTES, 1, UNBOUNDED));
    }

    private ChannelsConfig channels(ConfigReader r) {
        ConfigReader webhook = r.object("webhook");
        WebhookConfig webhookConfig = new WebhookConfig(
                webhook.bool("enabled", true),
                webhook.secret("token"),
                webhook.httpUrl("replyUrl", null),
                webhook.intValue("maxConcurrentSends", WebhookConfig.DEFAULT_MAX_CONCURRENT_SENDS, 1, 1024));
        WebchatConfig webchatConfig = new WebchatConfig(r.object("webchat").bool("enabled", true));
        ConfigReader telegram = r.object("telegram");
        TelegramConfig telegramConfig = new TelegramConfig(
                telegram.bool("enabled", false),
                telegram.secret("botToken"),
                telegram.string("botTokenEnv", "TELEGRAM_BOT_TOKEN"),
                telegram.httpUrl("apiBaseUrl", "https://api.telegram.org"),
                telegram.intValue("pollTimeoutS", 30, 0, 50),
                telegram.userIds("allowFrom", List.of("*")),
                telegram.bool("requireMention", true));
        return new ChannelsConfig(webhookConfig, webchatConfig, telegramConfig);
    }
}
