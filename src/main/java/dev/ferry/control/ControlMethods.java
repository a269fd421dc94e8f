package dev.ferry.control;

import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import dev.ferry.delivery.Outbox;
import dev.ferry.journal.Journal;
import dev.ferry.queue.TurnScheduler;

/**
 * The one table of control methods (SPEC 3.4): {@code POST /rpc} and {@code GET /ws} serve it.
 * Each method is written once, here or in the class it names.
 */
public final class ControlMethods {

    private ControlMethods() {}

    /**
     * @param reload requests a reload with its trigger's name
     */
    public static RpcMethods create(StatusRpc status, ChatRpc chat, Journal journal, TurnScheduler turns,
                                    Outbox outbox, ConfigRpc config,
                                    Function<String, CompletableFuture<ReloadOutcome>> reload) {
        RpcMethods methods = new RpcMethods();
        status.register(methods);
        chat.register(methods);
        new SessionRpc(journal, turns).register(methods);
        new ReplyRpc(journal, outbox).register(methods);
        config.register(methods);
        methods.add("gateway.reload", params -> reload.apply("rpc").thenApply(config::describe));
        return methods;
    }
}
