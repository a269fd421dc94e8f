package dev.ferry.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Why a command talking to a running gateway did not get its answer, in one line that names what was wrong
 * and where, with the exit code {@code ferry send} ends with. The token is never part of a message.
 * Immutable.
 */
final class GatewayFailure extends Exception {

    private static final long serialVersionUID = 1L;

    /** The kinds of failure, each with its exit code (1 is an invalid configuration, 2 wrong usage). */
    enum Kind {
        DROPPED(3), NOT_RUNNING(4), UNAUTHORIZED(5), TIMEOUT(6), ERROR(7), CLOSED(8);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        int exitCode() {
            return exitCode;
        }
    }

    private final Kind kind;

    GatewayFailure(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    Kind kind() {
        return kind;
    }

    int exitCode() {
        return kind.exitCode();
    }

    /** The same failure, with what else is known appended after a semicolon. */
    GatewayFailure withDetail(String detail) {
        return new GatewayFailure(kind, getMessage() + "; " + detail);
    }

    /** Nothing listens at the gateway's address. */
    static GatewayFailure notRunning(URI base) {
        return new GatewayFailure(Kind.NOT_RUNNING,
                "no gateway at " + base + ": connection refused (is `ferry gateway` running?)");
    }

    /**
     * The gateway refused the token of {@code config}, or asked for one where it has none.
     * {@code code} and {@code detail} are the server's words, which never repeat a token.
     */
    static GatewayFailure refusedToken(URI base, boolean tokenGiven, String code, String detail, Path config) {
        String message = tokenGiven
                ? "the gateway refused the token (" + code + ": " + detail + "): gateway.auth.token in " + config
                        + " is not the running gateway's"
                : "the gateway requires a token (" + code + ": " + detail + "): set gateway.auth.token in " + config;
        return new GatewayFailure(Kind.UNAUTHORIZED, message + " (gateway at " + base + ")");
    }

    /** No answer in time; {@code what} is what was awaited, as in "no final reply". */
    static GatewayFailure timeout(String what, Duration timeout) {
        return new GatewayFailure(Kind.TIMEOUT, what + " within " + seconds(timeout));
    }

    /** The gateway answered a call with an error. */
    static GatewayFailure error(String method, String code, String message) {
        return new GatewayFailure(Kind.ERROR, method + " failed: " + code + ": " + message);
    }

    /** The gateway closed the connection, or it broke, before the answer came. */
    static GatewayFailure closed(int code, String reason, String beforeWhat) {
        String why = code == 1001 ? " (the gateway is stopping)" : "";
        String said = reason == null || reason.isBlank() ? "" : " " + reason;
        return new GatewayFailure(Kind.CLOSED,
                "the gateway closed the connection before " + beforeWhat + ": " + code + said + why);
    }

    /**
     * A failure to reach {@code base} or to hear from it, named by its cause: refused, timed out, no such
     * host, or the exception's own words.
     */
    static GatewayFailure unreachable(URI base, Throwable failure, Duration timeout) {
        // Outermost first: the JDK wraps a connect timeout's ConnectException in an HttpConnectTimeoutException.
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException) {
                return notRunning(base);
            }
            if (cause instanceof HttpConnectTimeoutException) {
                return new GatewayFailure(Kind.TIMEOUT, "no gateway at " + base + ": no connection within " + seconds(timeout));
            }
            if (cause instanceof HttpTimeoutException) {
                return new GatewayFailure(Kind.TIMEOUT, "no answer from the gateway at " + base + " within " + seconds(timeout));
            }
            if (cause instanceof UnresolvedAddressException) {
                return new GatewayFailure(Kind.NOT_RUNNING, "no gateway at " + base + ": unknown host");
            }
        }
        Throwable root = failure;
        while (root.getCause() != null && !(root instanceof IOException && root.getMessage() != null)) {
            root = root.getCause();
        }
        String detail = root.getMessage() == null ? root.getClass().getSimpleName()
                : root.getClass().getSimpleName() + ": " + root.getMessage();
        return new GatewayFailure(Kind.NOT_RUNNING, "no gateway answering at " + base + " (" + detail + ")");
    }

    static String seconds(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? millis / 1000 + " s" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
