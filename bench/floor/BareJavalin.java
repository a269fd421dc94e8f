import io.javalin.Javalin;

/**
 * The floor for Ferry's start-up on its own stack: a Javalin server with one route, {@code GET /healthz},
 * and nothing else (no journal, no configuration, no channels). bench/startup.sh starts it beside the
 * gateway with the same JVM flags, so the difference is what Ferry itself does at start-up.
 * Usage: java -cp target/ferry.jar:CLASSES BareJavalin PORT [record]
 * With {@code record} it answers one request of its own and exits: the JVM writes a class-data archive
 * (-XX:ArchiveClassesAtExit) only on an exit of its own, never when a signal stops it.
 */
public final class BareJavalin {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Javalin server = Javalin.create(javalin -> {
            javalin.startup.showJavalinBanner = false;
            javalin.startup.showOldJavalinVersionWarning = false;
            javalin.jetty.host = "127.0.0.1";
            javalin.jetty.port = port;
            javalin.routes.get("/healthz", ctx -> ctx.result("ok"));
        }).start();
        if (args.length > 1 && args[1].equals("record")) {
            var health = java.net.URI.create("http://127.0.0.1:" + port + "/healthz").toURL().openConnection();
            health.getInputStream().readAllBytes();
            server.stop();
            System.exit(0);
        }
    }
}
