import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * What answering after a group commit costs on this machine before any journal does any work: a bare
 * Jetty server (the same Jetty, thread pool and GC as the gateway) with three endpoints that all read
 * the body without blocking and answer 202:
 * <ul>
 *   <li>{@code /sync}: on the thread that read the request, as the gateway's no-op does;</li>
 *   <li>{@code /deferred}: from one other thread, as the gateway's intake does once its commit is done;</li>
 *   <li>{@code /durable}: the bodies are appended to a file by one writer thread, one {@code fdatasync}
 *       per group of whatever arrived meanwhile, and then answered from one other thread: the least a
 *       durable acknowledgement can do.</li>
 * </ul>
 * Run by {@code bench/ack-ceiling.sh}: {@code java -cp target/ferry.jar bench/ceiling/AckCeiling.java PORT DIR}.
 */
public final class AckCeiling {

    /** The file is reused from its start past this size, as SQLite reuses its WAL after a checkpoint. */
    private static final long WRAP_AT_BYTES = 64L << 20;
    private static final byte[] ANSWER = "{\"accepted\":true}".getBytes(StandardCharsets.UTF_8);

    private record Pending(byte[] body, Response response, Callback callback) {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        FileChannel log = FileChannel.open(Path.of(args[1], "ceiling.log"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        ExecutorService answers = Executors.newSingleThreadExecutor(daemon("ceiling-answers"));
        BlockingQueue<Pending> appends = new LinkedBlockingQueue<>();
        Thread writer = new Thread(() -> groupCommit(appends, log, answers), "ceiling-writer");
        writer.setDaemon(true);
        writer.start();

        Handler.Wrapper endpoints = new Handler.Wrapper() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String path = Request.getPathInContext(request);
                if (!path.equals("/sync") && !path.equals("/deferred") && !path.equals("/durable")) {
                    return super.handle(request, response, callback);
                }
                Content.Source.asByteArrayAsync(request, 1 << 20, Promise.Invocable.from(InvocationType.NON_BLOCKING,
                        body -> {
                            if (path.equals("/sync")) {
                                answer(response, callback);
                            } else if (path.equals("/deferred")) {
                                answers.execute(() -> answer(response, callback));
                            } else {
                                appends.add(new Pending(body, response, callback));
                            }
                        }, callback::failed));
                return true;
            }
        };
        if (args.length > 2 && args[2].equals("javalin")) {
            io.javalin.Javalin.create(javalin -> {
                javalin.startup.showJavalinBanner = false;
                javalin.jetty.host = "127.0.0.1";
                javalin.jetty.port = port;
                javalin.routes.get("/healthz", ctx -> ctx.result("ok"));
                javalin.jetty.modifyServer(server -> server.setHandler(endpoints));
            }).start();
            System.out.println("ready on " + port + " (javalin)");
            Thread.currentThread().join();
        }
        Server server = new Server(new QueuedThreadPool(250, 8, 60_000));
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(endpoints);
        server.start();
        System.out.println("ready on " + port);
        server.join();
    }

    private static void groupCommit(BlockingQueue<Pending> appends, FileChannel log, ExecutorService answers) {
        List<Pending> group = new ArrayList<>();
        ByteBuffer buffer = ByteBuffer.allocate(8 << 20);
        try {
            while (true) {
                group.add(appends.take());
                appends.drainTo(group, 2_000);
                for (Pending pending : group) {
                    if (buffer.remaining() < pending.body().length + 4) {
                        flush(buffer, log);
                    }
                    buffer.putInt(pending.body().length).put(pending.body());
                }
                flush(buffer, log);
                log.force(false);
                if (log.position() > WRAP_AT_BYTES) {
                    log.position(0);
                }
                List<Pending> committed = List.copyOf(group);
                group.clear();
                answers.execute(() -> committed.forEach(pending -> answer(pending.response(), pending.callback())));
            }
        } catch (InterruptedException | IOException e) {
            System.err.println("writer stopped: " + e);
        }
    }

    private static void flush(ByteBuffer buffer, FileChannel log) throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) {
            log.write(buffer);
        }
        buffer.clear();
    }

    private static void answer(Response response, Callback callback) {
        response.setStatus(202);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ANSWER.length);
        response.write(true, ByteBuffer.wrap(ANSWER), callback);
    }

    private static ThreadFactory daemon(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
