package dev.ferry.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a config back as a tree in the file's own keys and spellings, with every present secret replaced by
 * {@code "<redacted>"} and every absent one by {@code null}; reading the tree back gives the same config
 * except for the secrets. Map keys come out sorted, so equal configs give equal text.
 */
final class RedactedJson {

    private static final String REDACTED = "<redacted>";

    private final JsonNodeFactory nodes = JsonNodeFactory.instance;

    ObjectNode write(FerryConfig config) {
        ObjectNode root = nodes.objectNode();
        root.set("gateway", gateway(config.gateway()));
        root.putObject("state").put("dir", config.state().dir().toString());
        JournalConfig journal = config.journal();
        root.putObject("journal")
                .put("engine", ConfigBinder.spelling(journal.engine()))
                .put("sync", ConfigBinder.spelling(journal.sync()))
                .put("retentionDays", journal.retentionDays())
                .putObject("postgres")
                .put("url", journal.postgres().url())
                .put("user", journal.postgres().user())
                .put("passwordEnv", journal.postgres().passwordEnv())
                .put("leaseTtlMs", journal.postgres().leaseTtlMs())
                .put("notify", journal.postgres().listenNotify());
        root.putObject("session").put("scope", ConfigBinder.spelling(config.session().scope()));
        root.set("agent", agent(config.agent()));
        ObjectNode messages = root.putObject("messages");
        messages.set("inbound", inbound(config.messages().inbound()));
        messages.set("queue", queue(config.messages().queue()));
        root.set("channels", channels(config.channels()));
        return root;
    }

    private ObjectNode gateway(GatewayConfig gateway) {
        ObjectNode node = nodes.objectNode()
                .put("bind", gateway.bind())
                .put("port", gateway.port());
        putSecret(node.putObject("auth"), "token", gateway.authToken());
        node.put("shutdownTimeoutMs", gateway.shutdownTimeoutMs());
        node.set("allowedOrigins", strings(gateway.allowedOrigins()));
        node.putObject("reload")
                .put("drainTimeoutMs", gateway.reload().drainTimeoutMs())
                .put("deferralTimeoutMs", gateway.reload().deferralTimeoutMs());
        return node;
    }

    private ObjectNode agent(AgentConfig agent) {
        ObjectNode node = nodes.objectNode()
                .put("backend", agent.backend())
                .put("maxConcurrent", agent.maxConcurrent())
                .put("systemPrompt", agent.systemPrompt())
                .put("historyTurns", agent.historyTurns());
        node.putObject("echo").put("delayMs", agent.echo().delayMs());
        OpenAiConfig openai = agent.openai();
        node.putObject("openai")
                .put("baseUrl", openai.baseUrl())
                .put("model", openai.model())
                .put("apiKeyEnv", openai.apiKeyEnv())
                .put("stream", openai.stream())
                .put("timeoutMs", openai.timeoutMs())
                .put("maxTokens", openai.maxTokens())
                .put("temperature", openai.temperature())
                .put("connectTimeoutMs", openai.connectTimeoutMs())
                .put("firstTokenTimeoutMs", openai.firstTokenTimeoutMs())
                .put("idleTimeoutMs", openai.idleTimeoutMs())
                .put("maxRetries", openai.maxRetries());
        ObjectNode command = node.putObject("command");
        command.set("argv", strings(agent.command().argv()));
        command.put("timeoutMs", agent.command().timeoutMs());
        command.put("input", agent.command().input().name().toLowerCase(Locale.ROOT));
        command.put("maxOutputBytes", agent.command().maxOutputBytes());
        return node;
    }

    private ObjectNode inbound(InboundConfig inbound) {
        ObjectNode node = nodes.objectNode()
                .put("debounceMs", inbound.debounceMs())
                .put("maxWaitMs", inbound.maxWaitMs())
                .put("maxBatch", inbound.maxBatch())
                .put("maxTrackedKeys", inbound.maxTrackedKeys());
        ObjectNode byChannel = node.putObject("byChannel");
        new TreeMap<>(inbound.byChannel()).forEach(byChannel::put);
        return node;
    }

    private ObjectNode queue(QueueConfig queue) {
        ObjectNode node = nodes.objectNode()
                .put("mode", queue.mode().configName())
                .put("debounceMs", queue.debounceMs())
                .put("maxWaitMs", queue.maxWaitMs())
                .put("cap", queue.cap())
                .put("drop", queue.drop().configName())
                .put("notifyDrops", queue.notifyDrops());
        ObjectNode byChannel = node.putObject("byChannel");
        for (Map.Entry<String, QueueOverride> entry : new TreeMap<>(queue.byChannel()).entrySet()) {
            QueueOverrideCodec.write(entry.getValue(), byChannel.putObject(entry.getKey()));
        }
        return node;
    }

    private ObjectNode channels(ChannelsConfig channels) {
        ObjectNode node = nodes.objectNode();
        ObjectNode webhook = node.putObject("webhook").put("enabled", channels.webhook().enabled());
        putSecret(webhook, "token", channels.webhook().token());
        webhook.put("replyUrl", channels.webhook().replyUrl());
        webhook.put("maxConcurrentSends", channels.webhook().maxConcurrentSends());
        node.putObject("webchat").put("enabled", channels.webchat().enabled());
        TelegramConfig telegram = channels.telegram();
        ObjectNode telegramNode = node.putObject("telegram").put("enabled", telegram.enabled());
        putSecret(telegramNode, "botToken", telegram.botToken());
        telegramNode.put("botTokenEnv", telegram.botTokenEnv())
                .put("apiBaseUrl", telegram.apiBaseUrl())
                .put("pollTimeoutS", telegram.pollTimeoutS());
        telegramNode.set("allowFrom", strings(telegram.allowFrom()));
        telegramNode.put("requireMention", telegram.requireMention());
        return node;
    }

    private void putSecret(ObjectNode node, String key, Secret secret) {
        if (secret.isPresent()) {
            node.put(key, REDACTED);
        } else {
            node.putNull(key);
        }
    }

    private ArrayNode strings(List<String> items) {
        ArrayNode array = nodes.arrayNode();
        items.forEach(array::add);
        return array;
    }
}
