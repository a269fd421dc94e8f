package dev.ferry.control;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.ferry.config.ConfigException;
import dev.ferry.config.ConfigFile;
import dev.ferry.config.ConfigLoader;
import dev.ferry.config.JsonMergePatch;
import dev.ferry.config.LoadedConfig;

/**
 * {@code config.get}, {@code config.patch} and {@code config.apply} (SPEC 3.4). An edit is checked
 * against {@code baseHash}, validated in full, written atomically with a backup, and then reloaded; an
 * edit that changes nothing writes nothing and reloads nothing. Nothing puts every setting back to its
 * default by accident: an apply of an empty document needs {@code reset: true}, and a patch is refused
 * when the file the gateway runs from has gone missing or empty. Edits are serialised by {@code lock}.
 */
public final class ConfigRpc {
    private static final Logger log = LoggerFactory.getLogger(ConfigRpc.class);
    private static final ObjectMapper PRETTY = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Supplier<LoadedConfig> current;
    private final Function<String, CompletableFuture<ReloadOutcome>> reload;
    private final Supplier<URI> listenerUrl;
    private final BuildCheck buildCheck;
    private final Object lock = new Object();

    /**
     * @param reload requests a reload with its trigger's name and completes with its outcome
     * @param listenerUrl where the gateway listens now, which a reload may have moved
     */
    public ConfigRpc(Supplier<LoadedConfig> current, Function<String, CompletableFuture<ReloadOutcome>> reload,
                     Supplier<URI> listenerUrl, BuildCheck buildCheck) {
        this.buildCheck = buildCheck;
        this.current = current;
        this.reload = reload;
        this.listenerUrl = listenerUrl;
    }

    public void register(RpcMethods methods) {
        methods.addSync("config.get", params -> get())
                .add("config.patch", params -> edit(params, true))
                .add("config.apply", params -> edit(params, false));
    }

    private JsonNode get() {
        LoadedConfig loaded = current.get();
        ObjectNode view = Json.object();
        view.set("config", ConfigLoader.toRedactedJson(loaded.config()));
        view.put("hash", loaded.hash());
        view.put("path", loaded.path() == null ? null : loaded.path().toString());
        view.put("fromFile", loaded.fromFile());
        return view;
    }

    /** The outcome and the listener's address after it, so a caller whose reload moved the listener can follow. */
    public JsonNode describe(ReloadOutcome outcome) {
        ObjectNode payload = Json.object().put("applied", outcome.applied()).put("generation", outcome.generation())
                .put("url", listenerUrl.get().toString());
        outcome.errors().forEach(payload.putArray("errors")::add);
        return payload;
    }

    /** A patch merges {@code raw} into the file; an apply replaces the file with {@code raw}. */
    private CompletableFuture<JsonNode> edit(ObjectNode params, boolean merge) {
        Path path = current.get().path();
        if (path == null) {
            throw new RpcException("NO_CONFIG_FILE", 409, "this gateway runs on an inline configuration with no file to edit");
        }
        JsonNode raw = params.get("raw");
        if (raw == null || !(raw.isTextual() || raw.isObject())) {
            throw RpcException.invalidParams("params.raw: required, JSON5 text or an object");
        }
        JsonNode resetNode = params.get("reset");
        if (resetNode != null && !resetNode.isBoolean()) {
            throw RpcException.invalidParams("params.reset: must be true or false");
        }
        boolean reset = resetNode != null && resetNode.asBoolean();
        ConfigFile file = new ConfigFile(path);
        String newText;
        synchronized (lock) {
            try {
                String text = file.read();
                String hash = ConfigFile.hash(text);
                if (merge && !hash.equals(current.get().hash()) && file.holdsNothing(text)) {
                    // The file went missing or empty since it was loaded. Merged into nothing, the patch would
                    // become the whole file, and every other setting would go back to its default.
                    throw new RpcException("CONFLICT", 409, path + " is missing or empty, so there is nothing to patch;"
                            + " the gateway runs on its last configuration. Restore the file, or send a whole one with"
                            + " config.apply");
                }
                JsonNode baseHash = params.get("baseHash");
                if (!text.isEmpty() && (baseHash == null || !baseHash.isTextual())) {
                    throw RpcException.invalidParams("params.baseHash: required (the hash from config.get)");
                }
                if (baseHash != null && baseHash.isTextual() && !baseHash.asText().equals(hash)) {
                    throw new RpcException("CONFLICT", 409,
                            "the configuration changed since baseHash was read; get it again and retry");
                }
                ObjectNode currentTree = file.tree(text);
                ObjectNode givenText = raw.isTextual() ? ConfigFile.parseText(raw.asText(), "params.raw") : null;
                ObjectNode given = raw.isObject() ? (ObjectNode) raw.deepCopy() : givenText.deepCopy();
                if (!merge && given.isEmpty() && !reset) {
                    throw RpcException.invalidParams("params.raw: an empty document would put every setting back to"
                            + " its default (listener, token, state.dir); add reset: true if that is what you mean");
                }
                ObjectNode edited = merge ? (ObjectNode) JsonMergePatch.apply(currentTree, given) : given;
                ConfigFile.keepRedactedSecrets(edited, currentTree);
                if (edited.equals(currentTree)) {
                    return CompletableFuture.completedFuture(unchanged(hash));
                }
                // A whole-file apply given as text keeps its comments, unless secrets had to be restored. A reset
                // given as blank text is written as {}: a blank file is one that a reload refuses.
                boolean keepText = !merge && givenText != null && givenText.equals(edited) && !given.isEmpty();
                newText = keepText ? raw.asText() : PRETTY.writeValueAsString(edited) + "\n";
                // Refused here, before the file is written, rather than by the reload after it.
                buildCheck.check(ConfigLoader.parse(newText, path).config());
                file.writeAtomically(newText);
            } catch (ConfigException e) {
                RpcException refused = new RpcException("INVALID_CONFIG", 400, String.join("; ", e.errors()));
                return CompletableFuture.failedFuture(refused);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("a JSON tree always serialises", e);
            } catch (IOException e) {
                log.error("cannot write configuration path={}", path, e);
                return CompletableFuture.failedFuture(new RpcException("WRITE_FAILED", 500,
                        "cannot write " + path + ": " + e.getMessage()));
            }
        }
        String newHash = ConfigFile.hash(newText);
        log.info("configuration written by {} path={} hash={}", merge ? "config.patch" : "config.apply", path, newHash);
        return reload.apply(merge ? "config.patch" : "config.apply").thenApply(outcome -> {
            ObjectNode payload = Json.object().put("changed", true).put("hash", newHash);
            payload.set("reload", describe(outcome));
            return payload;
        });
    }

    private static JsonNode unchanged(String hash) {
        return Json.object().put("changed", false).put("hash", hash);
    }
}
