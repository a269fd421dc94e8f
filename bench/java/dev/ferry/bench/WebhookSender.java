package dev.ferry.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The benchmarks' webhook sender: a few keep-alive connections to one gateway, each written and read by a
 * thread of its own, with HTTP/1.1 framed by hand. The JDK's HttpClient did the job at close to a core of
 * its own, on a machine where the gateway must have the other: what the harness spends is taken from the
 * figure it measures. A message waits here for a free connection, so that wait counts in its latency.
 */
final class WebhookSender {

    /** Called on a connection's thread once intake has answered message {@code id} with {@code status}. */
    interface Answered {
        void answered(String id, int status);
    }

    private final BlockingQueue<String[]> queue = new LinkedBlockingQueue<>();
    private final int port;
    private final Answered answered;
    /** Messages posted and not yet answered; {@code idle} is notified when it reaches none. */
    private final AtomicInteger outstanding = new AtomicInteger();
    private final Object idle = new Object();

    WebhookSender(int port, int connections, Answered answered) {
        this.port = port;
        this.answered = answered;
        for (int i = 0; i < connections; i++) {
            Thread thread = new Thread(this::sendLoop, "bench-sender-" + port + "-" + i);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Queues a webhook message with {@code id} as its message id and its text. */
    void post(String conversation, String id) {
        outstanding.incrementAndGet();
        queue.add(new String[] {conversation, id});
    }

    /** Waits until every message posted has been answered, for at most {@code within}; says whether it was. */
    boolean awaitAnswered(Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        synchronized (idle) {
            while (outstanding.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(idle, left);
            }
            return true;
        }
    }

    private void sendLoop() {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (true) {
                String[] message = queue.take();
                out.write(request(message[0], message[1]));
                out.flush();
                int status = readStatus(in);
                answered.answered(message[1], status);
                if (outstanding.decrementAndGet() == 0) {
                    synchronized (idle) {
                        idle.notifyAll();
                    }
                }
                if (status != 202) {
                    System.err.println("intake refused " + message[1] + ": " + status);
                }
            }
        } catch (Exception e) {
            System.err.println("sender stopped: " + e);
        }
    }

    private byte[] request(String conversation, String id) {
        byte[] body = ("{\"messageId\":\"" + id + "\",\"conversation\":\"" + conversation
                + "\",\"sender\":\"bench\",\"text\":\"" + id + "\"}").getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST /channels/webhook/inbound HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        return request;
    }

    /** Reads one response (status line, headers, a Content-Length body) and answers its status. */
    private static int readStatus(InputStream in) throws IOException {
        String status = line(in);
        int length = 0;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(header.substring(15).trim());
            }
        }
        if (in.readNBytes(length).length != length) {
            throw new EOFException("response cut short");
        }
        return Integer.parseInt(status.split(" ")[1]);
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    /** Waits until the gateway on {@code port} answers its health check, failing early should it exit. */
    static void awaitHealthy(int port, Process gateway, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!gateway.isAlive()) {
                throw new IllegalStateException("a gateway exited: see its log");
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/healthz")
                        .toURL().openConnection();
                connection.setConnectTimeout(1000);
                connection.setReadTimeout(1000);
                if (connection.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new IllegalStateException("a gateway did not become healthy in " + within.toSeconds() + " s");
    }
}
