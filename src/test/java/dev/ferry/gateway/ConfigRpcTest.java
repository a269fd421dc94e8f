package dev.ferry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.agent.AgentBackends;
import dev.ferry.control.BuildCheck;
import dev.ferry.control.ConfigRpc;
import dev.ferry.control.Json;
import dev.ferry.control.ReloadOutcome;
import dev.ferry.control.RpcException;
import dev.ferry.control.RpcMethods;
import dev.ferry.config.ConfigFile;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.FerryConfig;
import dev.ferry.config.LoadedConfig;
import dev.ferry.debounce.FlushReport;
import dev.ferry.queue.DrainReport;
import dev.ferry.time.ManualScheduler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The config RPCs against a real file and a real run loop, with a target that only records what a reload
 * applies: edits that would put every setting back to its default must be asked for plainly.
 */
class ConfigRpcTest {

    private static final String CONFIG = "// the operator's file\n{ gateway: { port: 18790, auth: { token: 'tok-1234' } } }\n";

    @TempDir
    Path dir;

    private final List<LoadedConfig> applied = new CopyOnWriteArrayList<>();
    private final AtomicReference<LoadedConfig> current = new AtomicReference<>();
    private ReloadSequencer sequencer;
    private RpcMethods methods;
    private Path file;

    @AfterEach
    void closeReloadSequencer() {
        if (sequencer != null) {
            sequencer.close();
        }
    }

    private void startFrom(String text) throws Exception {
        file = dir.resolve("ferry.json5");
        if (text != null) {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        }
        current.set(ConfigLoader.load(file));
        sequencer = new ReloadSequencer(new ApplyingTarget(), () -> ConfigLoader.reload(file), current.get().config().gateway(),
                new SimpleMeterRegistry(), new ManualScheduler());
        methods = new RpcMethods();
        new ConfigRpc(current::get, sequencer::requestReload, () -> java.net.URI.create("http://127.0.0.1:18789"),
                new BuildCheck(AgentBackends.BUILT_IN)).register(methods);
    }

    private JsonNode call(String method, ObjectNode params) throws Exception {
        return methods.call(method, params).get(10, TimeUnit.SECONDS);
    }

    private RpcException refusal(String method, ObjectNode params) throws Exception {
        try {
            JsonNode answer = call(method, params);
            throw new AssertionError(method + " was not refused: " + answer);
        } catch (ExecutionException e) {
            assertThat(e.getCause()).isInstanceOf(RpcException.class);
            return (RpcException) e.getCause();
        }
    }

    private ObjectNode params(JsonNode raw) {
        ObjectNode params = Json.object().put("baseHash", current.get().hash());
        params.set("raw", raw);
        return params;
    }

    private static JsonNode text(String text) {
        return Json.MAPPER.getNodeFactory().textNode(text);
    }

    @Test
    void applyOfAnEmptyDocumentIsRefusedAndChangesNothing() throws Exception {
        startFrom(CONFIG);

        for (JsonNode raw : List.of(text(""), text("  \n// nothing but a comment\n"), text("{}"), Json.object())) {
            RpcException refused = refusal("config.apply", params(raw));

            assertThat(refused.code()).as("for %s", raw).isEqualTo("INVALID_PARAMS");
            assertThat(refused.httpStatus()).isEqualTo(400);
            assertThat(refused.getMessage()).startsWith("params.raw: ").contains("reset: true");
        }
        assertThat(Files.readString(file)).isEqualTo(CONFIG);
        assertThat(dir.resolve("ferry.json5.bak")).doesNotExist();
        assertThat(applied).isEmpty();
    }

    @Test
    void applyOfAnEmptyDocumentWithResetWritesTheDefaultsAndReloadsThem() throws Exception {
        startFrom(CONFIG);

        JsonNode answer = call("config.apply", params(text("")).put("reset", true));

        assertThat(answer.get("changed").asBoolean()).isTrue();
        assertThat(answer.at("/reload/applied").asBoolean()).as(answer.toString()).isTrue();
        // Written as a document, not as a blank file: a blank file is what a reload refuses.
        assertThat(ConfigFile.hash(Files.readString(file))).isEqualTo(answer.get("hash").asText());
        assertThat(new ConfigFile(file).holdsNothing(Files.readString(file))).isFalse();
        assertThat(Files.readString(dir.resolve("ferry.json5.bak"))).isEqualTo(CONFIG);
        assertThat(applied).singleElement().extracting(LoadedConfig::config).isEqualTo(FerryConfig.defaults());
    }

    @Test
    void resetMustBeABoolean() throws Exception {
        startFrom(CONFIG);

        RpcException refused = refusal("config.apply", params(text("")).put("reset", "yes"));

        assertThat(refused.code()).isEqualTo("INVALID_PARAMS");
        assertThat(refused.getMessage()).isEqualTo("params.reset: must be true or false");
        assertThat(Files.readString(file)).isEqualTo(CONFIG);
    }

    @Test
    void patchOfAFileThatWentMissingOrEmptyIsRefusedAndWritesNothing() throws Exception {
        startFrom(CONFIG);
        ObjectNode patch = Json.object();
        patch.putObject("raw").putObject("messages").putObject("queue").put("cap", 5);

        Files.delete(file);
        RpcException missing = refusal("config.patch", patch);
        Files.writeString(file, "// emptied\n");
        RpcException emptied = refusal("config.patch", patch);

        for (RpcException refused : List.of(missing, emptied)) {
            assertThat(refused.code()).isEqualTo("CONFLICT");
            assertThat(refused.getMessage()).startsWith(file + " is missing or empty").contains("config.apply");
        }
        assertThat(Files.readString(file)).isEqualTo("// emptied\n");
        assertThat(applied).isEmpty();
    }

    @Test
    void patchOfAGatewayThatStartedWithoutAFileCreatesTheFile() throws Exception {
        startFrom(null);
        ObjectNode patch = Json.object();
        patch.putObject("raw").putObject("messages").putObject("queue").put("cap", 5);

        JsonNode answer = call("config.patch", patch);

        assertThat(answer.at("/reload/applied").asBoolean()).as(answer.toString()).isTrue();
        assertThat(ConfigLoader.load(file).config().messages().queue().cap()).isEqualTo(5);
        assertThat(applied).singleElement().satisfies(next -> assertThat(next.config().messages().queue().cap()).isEqualTo(5));
    }

    /** Nothing to drain; {@code apply} makes the reloaded configuration the current one, as the gateway does. */
    private final class ApplyingTarget implements ReloadTarget {

        @Override
        public FlushReport flushAllInboundDebouncers(Duration timeout) {
            return new FlushReport(true, 0, 0);
        }

        @Override
        public boolean hasQueuedFollowups() {
            return false;
        }

        @Override
        public DrainReport waitForFollowupQueueDrain(Duration timeout) {
            return new DrainReport(true, 0);
        }

        @Override
        public void markDraining() {
        }

        @Override
        public boolean awaitRunningTurns(Duration timeout) {
            return true;
        }

        @Override
        public int abortRunningTurns() {
            return 0;
        }

        @Override
        public PreparedReload prepare(LoadedConfig next) {
            return new PreparedReload() {
                @Override
                public void commit() {
                    applied.add(next);
                    current.set(next);
                }

                @Override
                public void discard() {
                }
            };
        }

        @Override
        public void clearDraining() {
        }
    }
}
