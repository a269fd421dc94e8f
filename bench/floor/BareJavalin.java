import io.javalin.Javalin;

/**
 * The floor for Ferry's start-up on its own stack: a Javalin server with one route, {@code GET /healthz},
 * and nothing else (no journal, no configuration, no channels). bench/startup.sh starts it beside the
 * gateway with the same JVM flags, so the difference is what Ferry itself does at start-up.
 * Usage: java -cp target/ferry.jar:CLASSES BareJavalin PORT
 */
public final class BareJavalin {
    public static void main(String[] args) {
        Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.jetty.host = "127.0.0.1";
            javalin.jetty.port = Integer.parseInt(args[0]);
            javalin.routes.get("/healthz", ctx -> ctx.result("ok"));
        }).start();
    }
}
