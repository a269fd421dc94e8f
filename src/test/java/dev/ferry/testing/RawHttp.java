package dev.ferry.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * HTTP/1.1 by hand over a plain socket, for requests that no client library would send (a broken
 * request line, a bad Content-Length, a body that never ends). One request per connection.
 */
public final class RawHttp {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The status, the header block as sent, and the body parsed as JSON (null when it is not JSON). */
    public record Answer(int status, String headers, JsonNode body, String raw) {
        public String header(String name) {
            for (String line : headers.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }
    }

    private RawHttp() {}

    /** A socket connected to {@code base}'s host and port, with a read timeout so a test never hangs. */
    public static Socket connect(URI base) {
        try {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 5_000);
            socket.setSoTimeout(10_000);
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code request} (ISO-8859-1, as HTTP headers are) and reads the one answer. */
    public static Answer exchange(URI base, String request) {
        return exchange(base, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public static Answer exchange(URI base, byte[] request) {
        try (Socket socket = connect(base)) {
            socket.getOutputStream().write(request);
            socket.getOutputStream().flush();
            return read(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads one answer: the header block, then Content-Length bytes or everything up to the close. */
    public static Answer read(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        // The last four bytes read, one per octet: the header block ends at CR LF CR LF.
        for (int last = 0; last != 0x0D0A0D0A; ) {
            int next = in.read();
            if (next < 0) {
                throw new IOException("connection closed before the headers ended: " + head);
            }
            head.write(next);
            last = (last << 8) | next;
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        int status = Integer.parseInt(headers.split(" ", 3)[1]);
        String length = new Answer(status, headers, null, "").header("Content-Length");
        byte[] body = length == null ? in.readAllBytes() : in.readNBytes(Integer.parseInt(length));
        String raw = new String(body, StandardCharsets.UTF_8);
        JsonNode json;
        try {
            json = headers.toLowerCase(Locale.ROOT).contains("content-type: application/json") ? JSON.readTree(raw) : null;
        } catch (IOException notJson) {
            json = null;
        }
        return new Answer(status, headers, json, raw);
    }
}
